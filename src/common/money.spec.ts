import { formatMoney, mulDiv, parseMoney } from './money';

describe('money', () => {
  it('parses and formats with 5 decimals, exactly', () => {
    expect(formatMoney(parseMoney('0.0085'))).toBe('0.00850');
    expect(formatMoney(parseMoney('19.99'))).toBe('19.99000');
    expect(formatMoney(parseMoney('-0.00750'))).toBe('-0.00750');
    expect(formatMoney(parseMoney('1'))).toBe('1.00000');
    // 0.1 + 0.2 is the classic float trap
    expect(formatMoney(parseMoney('0.1') + parseMoney('0.2'))).toBe('0.30000');
  });

  it('rounds extra decimals half up', () => {
    expect(formatMoney(parseMoney('0.000005'))).toBe('0.00001');
    expect(formatMoney(parseMoney('0.000004'))).toBe('0.00000');
  });

  it('rejects what is not a decimal', () => {
    expect(() => parseMoney('1e3')).toThrow();
    expect(() => parseMoney('abc')).toThrow();
  });

  it('multiplies by a fraction, rounding half up', () => {
    expect(mulDiv(100000n, 1n, 3n)).toBe(33333n);
    expect(mulDiv(100000n, 2n, 3n)).toBe(66667n);
    expect(mulDiv(5n, 1n, 2n)).toBe(3n);
  });
});
