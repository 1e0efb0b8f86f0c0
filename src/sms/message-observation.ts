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
