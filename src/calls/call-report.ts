import { formatMoney, parseMoney } from '../common/money';
import { isTerminalCallStatus } from '../twilio/twilio.types';

/** How a call ended, as a platform reads it: Twilio's terminal status, with `voicemail` for a completed call a machine answered. */
export const CALL_OUTCOMES = ['completed', 'busy', 'no-answer', 'failed', 'canceled', 'voicemail'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** Who ended the call, as far as we can know (see endedBy). */
export const CALL_ENDED_BY = ['caller', 'callee', 'transfer_target', 'api', 'timeout', 'unknown'] as const;
export type CallEndedBy = (typeof CALL_ENDED_BY)[number];

/** Who ends a call that completes while a TwiML document runs (see CallRecordEntity.twimlEndsAs). */
export const TWIML_ENDS = ['api', 'timeout', 'remote', 'target'] as const;
export type TwimlEnd = (typeof TWIML_ENDS)[number];

/** Verbs after which Twilio asks us what to do next (Gather, Record, Redirect) or hands the call to the other party's input. */
const WAITING_VERBS = /<(Gather|Record|Redirect|Enqueue|Connect)\b/;
/** A Dial connects a third party: who left the bridge is known only from its action (see CallControlService.transferEnded, forwardEnded). */
const DIAL_VERB = /<Dial\b/;

/**
 * Who ends a call whose last TwiML is `xml`: a document that waits for input leaves the hang-up to
 * the other party (`remote`); one that hangs up or simply runs out is ended by us (`api`); a Dial
 * bridges a third party: null until its action says how the bridge ended.
 */
export function twimlEndOf(xml: string): TwimlEnd | null {
  if (DIAL_VERB.test(xml)) return null;
  return WAITING_VERBS.test(xml) ? 'remote' : 'api';
}

/** Twilio's default TimeLimit (we never set another): it cuts a call after 4 hours. */
export const TWILIO_TIME_LIMIT_SECONDS = 4 * 3600;

/** Recording statuses after which nothing more comes (the rule of RecordingRepository too). */
const FINAL_RECORDING_STATUSES = ['completed', 'absent', 'failed', 'deleted'];

/** What a report is computed from: the call record and its recordings. */
export interface CallReportFacts {
  /** null for a request Twilio never received. */
  sid: string | null;
  status: string;
  answeredBy: string | null;
  durationSeconds: number | null;
  endTime: Date | null;
  updatedAt: Date;
  price: string | null;
  priceUnit: string | null;
  hangupRequestedAt: Date | null;
  direction: 'inbound' | 'outbound';
  /** Who ends the call if it completes while the TwiML we served last runs (null: we do not know). */
  twimlEndsAs: TwimlEnd | null;
  record: boolean;
  twiml: string | null;
  recordingStatuses: string[];
}

export function callOutcome(status: string, answeredBy: string | null): CallOutcome | null {
  switch (status) {
    case 'completed':
      return answeredBy?.startsWith('machine') ? 'voicemail' : 'completed';
    case 'busy':
    case 'no-answer':
    case 'failed':
    case 'canceled':
      return status;
    default:
      return null;
  }
}

/**
 * Who ended an ended call. Our hangup endpoint: `api` (Twilio also cancels only through its REST
 * API). Ringing out or Twilio's 4-hour limit: `timeout`. A busy line: `callee`. Twilio does not say
 * which party hung up an answered call, so it is inferred from the TwiML we served last
 * (`twimlEndsAs`): a document that hangs up or runs out ended it (`api`, or `timeout` for a
 * conversation limit); one still waiting for input (a Gather, a Record) means the other party hung
 * up (`callee` on an outbound call, `caller` on an inbound one), and so does the bridge of a transfer
 * or of the greeting's forward the call left (its Dial action came with the call completed); a
 * bridge the dialed party left, after which we hung up, was ended by the transfer target. Anything
 * else (a Dial without an action of ours) is `unknown`, as is a failed call (the network ended it).
 */
export function endedBy(
  f: Pick<CallReportFacts, 'status' | 'hangupRequestedAt' | 'durationSeconds' | 'direction' | 'twimlEndsAs'>,
): CallEndedBy | null {
  if (!isTerminalCallStatus(f.status)) return null;
  if (f.hangupRequestedAt && (f.status === 'completed' || f.status === 'canceled')) return 'api';
  switch (f.status) {
    case 'canceled':
      return 'api';
    case 'no-answer':
      return 'timeout';
    case 'busy':
      return 'callee';
    case 'completed':
      if ((f.durationSeconds ?? 0) >= TWILIO_TIME_LIMIT_SECONDS) return 'timeout';
      switch (f.twimlEndsAs) {
        case 'api':
        case 'timeout':
          return f.twimlEndsAs;
        case 'remote':
          return f.direction === 'inbound' ? 'caller' : 'callee';
        case 'target':
          return 'transfer_target';
        default:
          return 'unknown';
      }
    default:
      return 'unknown';
  }
}

/** A call that records (record=true, a voicemail, or TwiML with <Record>) has recordings to wait for once answered. */
export function expectsRecording(f: Pick<CallReportFacts, 'status' | 'record' | 'twiml'>): boolean {
  return f.status === 'completed' && (f.record || /<Record/i.test(f.twiml ?? ''));
}

export interface ReportSettlement {
  /** The call has ended: outcome, who ended it and the times no longer change. */
  final: boolean;
  /** Final, and nothing more is waited for: Twilio's price and the expected recordings are in, or settleBy has passed. */
  settled: boolean;
  /** The latest moment the report settles (the end + settleSeconds); null while the call is live. */
  settleBy: Date | null;
}

/**
 * Whether and when a call's report is settled. Twilio adds the price shortly after the end and the
 * recordings come with their own callbacks; either may never come, so the wait is bounded.
 */
export function reportSettlement(f: CallReportFacts, now: Date, settleSeconds: number): ReportSettlement {
  if (!isTerminalCallStatus(f.status)) return { final: false, settled: false, settleBy: null };
  // Twilio's end, but never later than our last change of the record: a clock ahead of ours does not push the wait out
  const end = f.endTime && f.endTime.getTime() < f.updatedAt.getTime() ? f.endTime : f.updatedAt;
  const settleBy = new Date(end.getTime() + settleSeconds * 1000);
  const priced = f.price !== null || f.sid === null;
  const recorded =
    !expectsRecording(f) || (f.recordingStatuses.length > 0 && f.recordingStatuses.every((s) => FINAL_RECORDING_STATUSES.includes(s)));
  return { final: true, settled: (priced && recorded) || now.getTime() >= settleBy.getTime(), settleBy };
}

export interface CallCost {
  /** Positive decimal string, 5 decimals. */
  amount: string;
  currency: string;
  source: 'twilio' | 'estimate';
  billableMinutes: number;
  /** The price list the estimate used; null when Twilio's price is reported. */
  pricing: { voicePerMinute: string; currency: string } | null;
}

/** Currency of the configured price list (PRICE_* settings), as in the usage statistics. */
export const ESTIMATE_CURRENCY = 'USD';

/**
 * What an ended call cost: Twilio's price when it reported one (Twilio's sign dropped: a charge is a
 * positive amount), else the configured price per started minute of talk time; null while live.
 */
export function callCost(f: CallReportFacts, voicePerMinute: string): CallCost | null {
  if (!isTerminalCallStatus(f.status)) return null;
  const billableMinutes = f.status === 'completed' && (f.durationSeconds ?? 0) > 0 ? Math.ceil(f.durationSeconds! / 60) : 0;
  if (f.price !== null) {
    const units = parseMoney(f.price);
    return {
      amount: formatMoney(units < 0n ? -units : units),
      currency: f.priceUnit ?? ESTIMATE_CURRENCY,
      source: 'twilio',
      billableMinutes,
      pricing: null,
    };
  }
  const perMinute = parseMoney(voicePerMinute);
  return {
    amount: formatMoney(perMinute * BigInt(billableMinutes)),
    currency: ESTIMATE_CURRENCY,
    source: 'estimate',
    billableMinutes,
    pricing: { voicePerMinute: formatMoney(perMinute), currency: ESTIMATE_CURRENCY },
  };
}
