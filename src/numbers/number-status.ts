/**
 * Where a number stands. `purchasing`: stored, Twilio is being asked to buy it; `unknown`: Twilio's
 * answer was lost (timeout, dropped connection, 5xx) and the next comparison with Twilio's list of
 * owned numbers tells; `active`: owned; `failed`: Twilio never bought it; `released`: given back.
 */
export const NUMBER_STATUSES = ['purchasing', 'unknown', 'active', 'failed', 'released'] as const;
export type NumberStatus = (typeof NUMBER_STATUSES)[number];

/** A purchase Twilio has not confirmed yet: the row holds its number, and it has no sid. */
export const UNRESOLVED_PURCHASE_STATUSES: readonly NumberStatus[] = ['purchasing', 'unknown'];
