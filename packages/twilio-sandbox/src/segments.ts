const GSM_BASIC = new Set(
  Array.from(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ),
);
/** Characters of the GSM 03.38 extension table: each one takes an escape plus itself, two septets. */
const GSM_EXTENSION = new Set(Array.from('^{}\\[~]|€\f'));

export type Encoding = 'GSM-7' | 'UCS-2';

export interface SegmentCount {
  encoding: Encoding;
  segments: number;
}

/** Splits units into segments without breaking an escape pair or a surrogate pair across two of them. */
function pack(unitSizes: number[], single: number, concatenated: number): number {
  const total = unitSizes.reduce((a, b) => a + b, 0);
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const size of unitSizes) {
    if (used + size > concatenated) {
      segments++;
      used = 0;
    }
    used += size;
  }
  return segments;
}

export function countSegments(body: string): SegmentCount {
  const chars = Array.from(body);
  const gsm = chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENSION.has(c));
  if (gsm) {
    return {
      encoding: 'GSM-7',
      segments: pack(
        chars.map((c) => (GSM_EXTENSION.has(c) ? 2 : 1)),
        160,
        153,
      ),
    };
  }
  return {
    encoding: 'UCS-2',
    segments: pack(
      chars.map((c) => c.length),
      70,
      67,
    ),
  };
}
