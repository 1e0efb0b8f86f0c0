import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { AppError } from '../common/app-error';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const MAX_KEY_LENGTH = 255;

const PRINTABLE = /^[\x20-\x7e]+$/;
/** An sf-string (RFC 8941 §3.3.3): printable ASCII in double quotes, with \" and \\ escaped. */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

function invalid(message: string): AppError {
  return AppError.invalidField(IDEMPOTENCY_KEY_HEADER, `${IDEMPOTENCY_KEY_HEADER} ${message}`);
}

/**
 * The key a request sent, or null when it sent none. Takes the draft's sf-string form ("abc")
 * and, as most clients send it, the bare value (abc); either way 1 to 255 printable ASCII
 * characters. Sent twice, the header is refused: the draft allows one key per request.
 */
export function parseIdempotencyKey(values: readonly string[] | undefined): string | null {
  if (!values?.length) return null;
  if (values.length > 1) throw invalid('must be sent once');
  const raw = values[0].trim();
  let key = raw;
  if (raw.startsWith('"')) {
    const quoted = SF_STRING.exec(raw);
    if (!quoted) throw invalid('must be a quoted string of printable ASCII characters (with \\" and \\\\ escaped) or a bare key');
    key = quoted[1].replace(/\\(["\\])/g, '$1');
  }
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw invalid(`must be 1 to ${MAX_KEY_LENGTH} characters long`);
  if (!PRINTABLE.test(key)) throw invalid('must contain printable ASCII characters only');
  return key;
}

/** SHA-256 (hex) of the RFC 8785 canonical JSON of a body: key order and spacing do not change it. */
export function requestFingerprint(body: unknown): string {
  return createHash('sha256')
    .update(canonicalize(body ?? null) ?? 'null')
    .digest('hex');
}
