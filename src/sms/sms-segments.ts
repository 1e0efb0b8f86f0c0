import { SegmentedMessage } from 'sms-segments-calculator';

/** The segments Twilio will bill for a message body (GSM-7 or UCS-2); a media-only message is one. */
export function countSmsSegments(body: string | undefined): number {
  if (!body) return 1;
  return new SegmentedMessage(body).segmentsCount;
}
