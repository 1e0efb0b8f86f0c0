import { countSmsSegments } from './sms-segments';

describe('countSmsSegments', () => {
  it.each([
    ['no body (media only)', undefined, 1],
    ['160 GSM-7 characters', 'a'.repeat(160), 1],
    ['161 GSM-7 characters: 153 per part', 'a'.repeat(161), 2],
    ['306 GSM-7 characters', 'a'.repeat(306), 2],
    ['307 GSM-7 characters', 'a'.repeat(307), 3],
    ['80 euro signs: two septets each', '€'.repeat(80), 1],
    ['81 euro signs', '€'.repeat(81), 2],
    ['70 UCS-2 characters', '한'.repeat(70), 1],
    ['71 UCS-2 characters: 67 per part', '한'.repeat(71), 2],
    ['35 emoji: two UTF-16 units each', '😀'.repeat(35), 1],
    ['36 emoji', '😀'.repeat(36), 2],
  ])('%s', (_name, body, segments) => {
    expect(countSmsSegments(body)).toBe(segments);
  });
});
