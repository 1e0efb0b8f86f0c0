/**
 * A URL we give Twilio to call back: the configured webhook base + a route suffix + query
 * parameters, keeping a fragment of the base (Twilio's connection overrides such as `#rc=5&rp=all`
 * live there and are never part of what Twilio signs).
 */
export function twilioCallbackUrl(webhookBaseUrl: string, suffix: string, query: Record<string, string> = {}): string {
  const hashAt = webhookBaseUrl.indexOf('#');
  const base = (hashAt < 0 ? webhookBaseUrl : webhookBaseUrl.slice(0, hashAt)).replace(/\/+$/, '');
  const fragment = hashAt < 0 ? '' : webhookBaseUrl.slice(hashAt);
  const search = new URLSearchParams(query).toString();
  return `${base}${suffix}${search ? `?${search}` : ''}${fragment}`;
}
