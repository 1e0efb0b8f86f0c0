import qs from 'qs';

/**
 * How the service reads a query string. Flat parameters come out as Express's default parser gives
 * them (repeated names become arrays, `+` is a space); one level of brackets makes an object, so
 * `metadata[conversation_id]=c1` (or its percent-encoded form, as URLSearchParams writes it) is
 * `{ metadata: { conversation_id: 'c1' } }`, OpenAPI's deepObject style. Deeper brackets stay part
 * of the key, brackets never make arrays (`metadata[0]` is the key "0"), and names such as
 * `constructor` are kept as data on prototype-less objects rather than dropped.
 */
export function parseQueryString(text: string): Record<string, unknown> {
  return qs.parse(text, { depth: 1, parseArrays: false, plainObjects: true });
}
