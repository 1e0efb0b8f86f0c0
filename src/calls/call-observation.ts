import { type CallSnapshot, type CallStatus, isTerminalCallStatus } from '../twilio/twilio.types';

/** What Twilio told us about a call: a status (with its callback sequence, if any) and facts. */
export interface CallObservation {
  status?: CallStatus;
  /** SequenceNumber of a status callback; undefined for API snapshots. */
  sequence?: number;
  occurredAt?: Date;
  startTime?: Date | null;
  endTime?: Date | null;
  durationSeconds?: number | null;
  price?: string | null;
  priceUnit?: string | null;
  answeredBy?: string | null;
  queueTimeMs?: number | null;
  errorCode?: number | null;
  errorMessage?: string | null;
}

/** What Twilio's Call resource says, in the record's own fields: an observation, or insert data. */
export function callFactsOfSnapshot(s: CallSnapshot) {
  return {
    status: s.status,
    startTime: s.startTime,
    endTime: s.endTime,
    durationSeconds: s.durationSeconds,
    price: s.price,
    priceUnit: s.priceUnit,
    answeredBy: s.answeredBy,
    queueTimeMs: s.queueTimeMs,
  };
}

/**
 * Twilio's own time for the status a snapshot reports, so a status seen by a read sits on the same
 * clock as the callbacks: creation for `queued`, dialing for `initiated`, the end for a terminal
 * status. Undefined when the snapshot does not say (the moment of the read is then used).
 */
export function callSnapshotEventTime(s: CallSnapshot): Date | undefined {
  if (s.status === 'queued') return s.dateCreated ?? undefined;
  if (s.status === 'initiated') return s.startTime ?? s.dateCreated ?? undefined;
  if (isTerminalCallStatus(s.status)) return s.endTime ?? undefined;
  return undefined;
}

/** What Twilio reported about one recording. */
export interface RecordingUpsert {
  sid: string;
  callSid: string;
  status: string;
  url: string | null;
  durationSeconds: number | null;
  channels: number | null;
  source: string | null;
  startedAt: Date | null;
}
