import { hasUnstorableChar, replaceUnstorableChars } from './storable-text';

describe('storable text', () => {
  it('finds NUL and unpaired surrogates, not paired ones', () => {
    expect(hasUnstorableChar('a\u0000b')).toBe(true);
    expect(hasUnstorableChar('\ud800')).toBe(true);
    expect(hasUnstorableChar('x\udc00')).toBe(true);
    expect(hasUnstorableChar('\udc00\ud800')).toBe(true);
    expect(hasUnstorableChar('emoji 😀, tab\t, é, \u0001')).toBe(false);
  });

  it('replaces each of them with U+FFFD and keeps the rest', () => {
    expect(replaceUnstorableChars('a\u0000b\ud800c😀\udc00')).toBe('a\ufffdb\ufffdc😀\ufffd');
  });
});
