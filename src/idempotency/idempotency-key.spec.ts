import { AppError } from '../common/app-error';
import { parseIdempotencyKey, requestFingerprint } from './idempotency-key';

function refusal(values: string[]): AppError {
  try {
    parseIdempotencyKey(values);
  } catch (error) {
    return error as AppError;
  }
  throw new Error(`accepted ${JSON.stringify(values)}`);
}

describe('parseIdempotencyKey', () => {
  it('is null when no key was sent', () => {
    expect(parseIdempotencyKey(undefined)).toBeNull();
    expect(parseIdempotencyKey([])).toBeNull();
  });

  it.each([
    ['8e03978e-40d5-43e8-bc93-6894a57f9324', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"say \\"hi\\" \\\\ bye"', 'say "hi" \\ bye'],
    ['  order-42  ', 'order-42'],
    ['k'.repeat(255), 'k'.repeat(255)],
    [`"${'k'.repeat(255)}"`, 'k'.repeat(255)],
  ])('reads %s as %s', (header, key) => {
    expect(parseIdempotencyKey([header])).toBe(key);
  });

  it.each([
    ['an empty key', ['""']],
    ['a blank header', ['   ']],
    ['256 characters', ['k'.repeat(256)]],
    ['non-ASCII', ['clé-1']],
    ['a control character', ['a\tb']],
    ['an unterminated string', ['"abc']],
    ['an unescaped quote inside', ['"a"b"']],
    ['a bad escape', ['"a\\nb"']],
    ['the header twice', ['a', 'b']],
  ])('refuses %s with 400 validation_failed naming Idempotency-Key', (_name, values) => {
    const error = refusal(values);
    expect(error).toBeInstanceOf(AppError);
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual([{ field: 'Idempotency-Key', message: error.message }]);
  });
});

describe('requestFingerprint', () => {
  it('ignores key order and spacing, and tells other content apart', () => {
    const a = requestFingerprint(JSON.parse('{"to":"+14155550100","message":"hi","record":true}'));
    const b = requestFingerprint(JSON.parse('{ "record": true, "message": "hi", "to": "+14155550100" }'));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(requestFingerprint({ to: '+14155550100', message: 'hi', record: false })).not.toBe(a);
    expect(requestFingerprint({ to: '+14155550100', message: 'hi ', record: true })).not.toBe(a);
  });

  it('treats no body as null', () => {
    expect(requestFingerprint(undefined)).toBe(requestFingerprint(null));
    expect(requestFingerprint(undefined)).not.toBe(requestFingerprint({}));
  });
});
