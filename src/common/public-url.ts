import { API_PREFIX, WEBHOOK_ROUTE } from './api-routes';

/**
 * The service's public API base (`https://phone.example.com/api/phone`), from the public webhook base
 * Twilio calls back (SAMSAEK_TWILIO_WEBHOOK_URL): what clients and the platform can reach too.
 * Its route suffix is dropped; a base that does not end with it keeps its origin and gets the API prefix.
 */
export function publicApiBaseUrl(webhookBaseUrl: string): string {
  const url = new URL(webhookBaseUrl);
  const path = url.pathname.replace(/\/+$/, '');
  const suffix = `/${WEBHOOK_ROUTE}`;
  const base = path.endsWith(suffix) ? path.slice(0, -suffix.length) : `/${API_PREFIX}`;
  return `${url.origin}${base}`;
}

/** Where a client downloads a recording's audio with its bearer token (wav; `?format=mp3` for MP3). */
export function recordingAudioUrl(apiBaseUrl: string, recordingSid: string): string {
  return `${apiBaseUrl}/recordings/${encodeURIComponent(recordingSid)}/audio`;
}
