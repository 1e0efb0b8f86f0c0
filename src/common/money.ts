/** Exact decimal money: amounts are bigint counts of 1/100000 (Twilio prices carry 5 decimals). */
export const MONEY_SCALE = 5;
const UNIT = 10n ** BigInt(MONEY_SCALE);

/** Parses a non-negative or negative decimal string; digits beyond 5 decimals are rounded half up. */
export function parseMoney(value: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new Error(`not a decimal amount: "${value}"`);
  const [, sign, whole, fraction = ''] = match;
  const kept = fraction.slice(0, MONEY_SCALE).padEnd(MONEY_SCALE, '0');
  let units = BigInt(whole) * UNIT + BigInt(kept);
  if (fraction.length > MONEY_SCALE && Number(fraction[MONEY_SCALE]) >= 5) units += 1n;
  return sign === '-' ? -units : units;
}

/** "0.01700": always 5 decimals. */
export function formatMoney(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const fraction = (abs % UNIT).toString().padStart(MONEY_SCALE, '0');
  return `${negative ? '-' : ''}${abs / UNIT}.${fraction}`;
}

/** units × numerator / denominator, rounded half up (non-negative operands). */
export function mulDiv(units: bigint, numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new Error('denominator must be positive');
  const product = units * numerator;
  return (product * 2n + denominator) / (denominator * 2n);
}
