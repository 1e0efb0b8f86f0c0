import { maskPhoneNumber, normalizeE164 } from './phone-number';

describe('normalizeE164', () => {
  it('accepts valid E.164 numbers', () => {
    expect(normalizeE164('+14155550100')).toBe('+14155550100');
    expect(normalizeE164('+821012345678')).toBe('+821012345678');
  });

  it("rejects the guide's placeholders and anything not in E.164 form", () => {
    for (const bad of ['+1987654321', '+1234567890', '14155550100', '(415) 555-0100', '+1 415 555 0100', '', 42, null]) {
      expect(normalizeE164(bad)).toBeNull();
    }
  });
});

describe('maskPhoneNumber', () => {
  it('keeps the country prefix and the last four digits', () => {
    expect(maskPhoneNumber('+14155550100')).toBe('+1******0100');
  });
});
