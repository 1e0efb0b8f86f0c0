/**
 * Characters PostgreSQL cannot keep in text or jsonb: U+0000 (rejected outright) and UTF-16 surrogates
 * without their pair (the pg driver's UTF-8 encoding silently turns them into U+FFFD in text, and
 * jsonb rejects their \u escapes).
 */
// eslint-disable-next-line no-control-regex -- U+0000 is one of the characters this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export function hasUnstorableChar(text: string): boolean {
  return UNSTORABLE.test(text);
}

/** The text with every unstorable character replaced by U+FFFD, the replacement character. */
export function replaceUnstorableChars(text: string): string {
  return text.replace(UNSTORABLE_ALL, '\ufffd');
}
