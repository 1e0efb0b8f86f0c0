/** Where Twilio calls back: the public webhook base and the connection overrides to attach. */
export interface TwilioCallbackTarget {
  webhookBaseUrl: string;
  /** Twilio's connection overrides without the `#` (`rc=5&rp=5xx,ct,rt`), or '' for none. */
  callbackOverrides: string;
}

/**
 * A URL we give Twilio to call back: the webhook base + a route suffix + query parameters, then
 * Twilio's connection overrides as the fragment: the base's own fragment when it has one, else
 * the configured overrides (so Twilio retries a 503 instead of dropping the webhook). The
 * fragment is never sent to us nor part of what Twilio signs.
 */
export function twilioCallbackUrl(target: string | TwilioCallbackTarget, suffix: string, query: Record<string, string> = {}): string {
  const { webhookBaseUrl, callbackOverrides } = typeof target === 'string' ? { webhookBaseUrl: target, callbackOverrides: '' } : target;
  const hashAt = webhookBaseUrl.indexOf('#');
  const base = (hashAt < 0 ? webhookBaseUrl : webhookBaseUrl.slice(0, hashAt)).replace(/\/+$/, '');
  const fragment = hashAt >= 0 ? webhookBaseUrl.slice(hashAt) : callbackOverrides ? `#${callbackOverrides}` : '';
  const search = new URLSearchParams(query).toString();
  return `${base}${suffix}${search ? `?${search}` : ''}${fragment}`;
}
