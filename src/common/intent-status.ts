/**
 * Statuses of a call or message record that Twilio has not confirmed: `initiating` while the request
 * is on its way to Twilio, `unknown` when Twilio's answer was lost (timeout, dropped connection, 5xx)
 * and reconciliation has yet to find out whether Twilio acted.
 */
export const INTENT_STATUSES = ['initiating', 'unknown'] as const;
export type IntentStatus = (typeof INTENT_STATUSES)[number];

export function isIntentStatus(status: string): status is IntentStatus {
  return (INTENT_STATUSES as readonly string[]).includes(status);
}

/** What a record id looks like (uuid); GET by id accepts it where a Twilio sid is expected. */
export const RECORD_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
