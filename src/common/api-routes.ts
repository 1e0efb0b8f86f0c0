/** Every API route lives under this prefix, set once as Nest's global prefix. */
export const API_PREFIX = 'api/phone';

/** Where Twilio's webhooks live under the prefix. */
export const WEBHOOK_ROUTE = 'webhook';
