import type { MessageSnapshot, MessageStatus } from '../twilio/twilio.types';

export interface MessageObservation {
  status?: MessageStatus;
  occurredAt?: Date;
  segments?: number | null;
  errorCode?: number | null;
  errorMessage?: string | null;
  price?: string | null;
  priceUnit?: string | null;
  sentAt?: Date | null;
  /** When a callback said the message had left Twilio: `sent_at` while Twilio's own is unknown. */
  sentNoLaterThan?: Date;
}

/** Twilio's own time for the status a snapshot reports, when it says one (see callSnapshotEventTime). */
export function messageSnapshotEventTime(s: MessageSnapshot): Date | undefined {
  if (s.status === 'queued' || s.status === 'accepted') return s.dateCreated ?? undefined;
  if (s.status === 'sent') return s.dateSent ?? undefined;
  return undefined;
}

/** What Twilio's Message resource says, in the record's own fields: an observation, or insert data. */
export function messageFactsOfSnapshot(s: MessageSnapshot) {
  return {
    status: s.status,
    segments: s.segments,
    errorCode: s.errorCode,
    errorMessage: s.errorMessage,
    price: s.price,
    priceUnit: s.priceUnit,
    sentAt: s.dateSent,
  };
}
