import type { CallObservation, RecordingUpsert } from '../calls/call-observation';
import type { MessageObservation } from '../sms/message-observation';
import { appLogger } from '../common/logger';
import { hasUnstorableChar, replaceUnstorableChars } from '../common/storable-text';
import { twilioErrorTitle } from '../twilio/twilio.errors';
import { CALL_STATUSES, CallStatus, MESSAGE_STATUSES, MessageStatus, isTerminalCallStatus } from '../twilio/twilio.types';
import type { WebhookKind } from './webhook-event.entity';

/** A webhook body as Express parsed it: repeated keys become arrays. Twilio may add keys at any time. */
export type TwilioParams = Record<string, string | string[]>;

/** The single value of a parameter (the first one when repeated), or undefined when absent or empty. */
export function param(params: TwilioParams, name: string): string | undefined {
  const raw = params[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A SID parameter, only when it can be one (Twilio SIDs are at most 34 letters and digits); else undefined. */
export function sidParam(params: TwilioParams, name: string): string | undefined {
  const value = param(params, name);
  return value !== undefined && /^[A-Za-z0-9]{1,34}$/.test(value) ? value : undefined;
}

/** What fits the integer columns the parameters end up in. */
const INT_COLUMN = { min: 0, max: 2_147_483_647 };

/**
 * An integer parameter, or undefined when it is absent, not an integer or outside [min, max]: a value
 * a column cannot hold is dropped (with a log line) rather than failing the event on every retry.
 */
export function intParam(params: TwilioParams, name: string, range: { min: number; max: number } = INT_COLUMN): number | undefined {
  const value = param(params, name);
  if (value === undefined) return undefined;
  const parsed = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (Number.isSafeInteger(parsed) && parsed >= range.min && parsed <= range.max) return parsed;
  appLogger().event('warn', 'webhook_param_dropped', {
    param: name,
    value: value.slice(0, 40),
    reason: Number.isNaN(parsed) ? 'not an integer' : `outside ${range.min}..${range.max}`,
    sid: sidOf(params),
  });
  return undefined;
}

/** Dates a timestamptz column holds and Twilio could mean; JavaScript reaches far beyond PostgreSQL's range. */
const DATE_RANGE = { min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59) };

/** A date parameter, or undefined when absent, unreadable or outside 1970..9999 (dropped with a log line). */
export function dateParam(params: TwilioParams, name: string): Date | undefined {
  const value = param(params, name);
  if (!value) return undefined;
  const date = new Date(value);
  const time = date.getTime();
  if (Number.isNaN(time)) return undefined;
  if (time >= DATE_RANGE.min && time <= DATE_RANGE.max) return date;
  appLogger().event('warn', 'webhook_param_dropped', {
    param: name,
    value: value.slice(0, 40),
    reason: 'outside 1970..9999',
    sid: sidOf(params),
  });
  return undefined;
}

/** A text parameter cut to the `maxLength` of its column (with a log line), rather than failing the event. */
export function textParam(params: TwilioParams, name: string, maxLength: number): string | undefined {
  const value = param(params, name);
  if (value === undefined || value.length <= maxLength) return value;
  appLogger().event('warn', 'webhook_param_truncated', { param: name, length: value.length, max_length: maxLength, sid: sidOf(params) });
  return value.slice(0, maxLength);
}

export function asCallStatus(value: string | undefined): CallStatus | undefined {
  return value && (CALL_STATUSES as readonly string[]).includes(value) ? (value as CallStatus) : undefined;
}

export function asMessageStatus(value: string | undefined): MessageStatus | undefined {
  return value && (MESSAGE_STATUSES as readonly string[]).includes(value) ? (value as MessageStatus) : undefined;
}

export interface ClassifiedEvent {
  kind: WebhookKind;
  /** CallSid, MessageSid or RecordingSid. */
  sid: string;
  /** Same event, same key, whatever the retry or duplicate: kind + sid + status + sequence (+ recording sid). */
  dedupeKey: string;
}

/**
 * Tells a status callback apart by its parameters: a recording callback also carries CallSid,
 * a message callback carries no CallStatus, a call callback carries CallStatus.
 */
export function classifyStatusCallback(params: TwilioParams): ClassifiedEvent | null {
  const recordingSid = sidParam(params, 'RecordingSid');
  const recordingStatus = param(params, 'RecordingStatus');
  if (recordingSid && recordingStatus) {
    return {
      kind: 'recording_status',
      sid: recordingSid,
      dedupeKey: key('recording_status', sidParam(params, 'CallSid') ?? '', recordingStatus, '', recordingSid),
    };
  }
  const messageSid = sidParam(params, 'MessageSid') ?? sidParam(params, 'SmsSid');
  const messageStatus = param(params, 'MessageStatus') ?? param(params, 'SmsStatus');
  if (messageSid && messageStatus && !param(params, 'CallStatus')) {
    return { kind: 'message_status', sid: messageSid, dedupeKey: key('message_status', messageSid, messageStatus) };
  }
  const callSid = sidParam(params, 'CallSid');
  const callStatus = param(params, 'CallStatus');
  if (callSid && callStatus) {
    return {
      kind: 'call_status',
      sid: callSid,
      dedupeKey: key('call_status', callSid, callStatus, param(params, 'SequenceNumber') ?? ''),
    };
  }
  return null;
}

export function inboundCallEvent(params: TwilioParams): ClassifiedEvent | null {
  const callSid = sidParam(params, 'CallSid');
  if (!callSid) return null;
  const kind: WebhookKind = param(params, 'Direction') === 'inbound' ? 'inbound_call' : 'call_twiml';
  return { kind, sid: callSid, dedupeKey: key(kind, callSid, param(params, 'CallStatus') ?? '') };
}

/** Asynchronous answering-machine detection's callback: CallSid and AnsweredBy. */
export function amdEvent(params: TwilioParams): (ClassifiedEvent & { answeredBy: string }) | null {
  const callSid = sidParam(params, 'CallSid');
  const answeredBy = textParam(params, 'AnsweredBy', 32);
  if (!callSid || !answeredBy) return null;
  return { kind: 'call_amd', sid: callSid, dedupeKey: key('call_amd', callSid, answeredBy), answeredBy };
}

/**
 * A `<Dial>` action (a transfer's, or `call_forward`: the inbound greeting's forward): the parent
 * CallSid, DialCallStatus, and the dialed leg's DialCallSid and DialCallDuration.
 */
export function dialEvent(
  params: TwilioParams,
  kind: 'call_dial' | 'call_forward' = 'call_dial',
): (ClassifiedEvent & { status: string; dialCallSid: string | null; durationSeconds: number | null; callEnded: boolean }) | null {
  const callSid = sidParam(params, 'CallSid');
  const status = textParam(params, 'DialCallStatus', 16);
  if (!callSid || !status) return null;
  const dialCallSid = sidParam(params, 'DialCallSid') ?? null;
  return {
    kind,
    sid: callSid,
    dedupeKey: key(kind, callSid, status, dialCallSid ?? ''),
    status,
    dialCallSid,
    durationSeconds: intParam(params, 'DialCallDuration') ?? null,
    // the caller hung up during the dial: Twilio still requests the action, with the call's own status
    callEnded: isTerminalCallStatus(asCallStatus(param(params, 'CallStatus')) ?? ''),
  };
}

export function inboundSmsEvent(params: TwilioParams): ClassifiedEvent | null {
  const sid = sidParam(params, 'MessageSid') ?? sidParam(params, 'SmsMessageSid') ?? sidParam(params, 'SmsSid');
  if (!sid) return null;
  return { kind: 'inbound_sms', sid, dedupeKey: key('inbound_sms', sid, 'received') };
}

function key(...parts: string[]): string {
  return parts.join('|').slice(0, 200);
}

/** What a call status callback says about the call. Prices are never in callbacks. */
export function callObservationOf(params: TwilioParams): CallObservation {
  const status = asCallStatus(param(params, 'CallStatus'));
  const duration = intParam(params, 'CallDuration');
  const at = dateParam(params, 'Timestamp');
  return {
    status,
    sequence: intParam(params, 'SequenceNumber'),
    occurredAt: at,
    // Twilio's start_time is when the call was dialed and end_time when it ended; the callbacks' Timestamps say both
    startTime: status === 'initiated' ? at : undefined,
    endTime: status && isTerminalCallStatus(status) ? at : undefined,
    // busy/no-answer/failed calls report CallDuration=0; the Call resource has no duration for them
    durationSeconds: duration !== undefined && (status === 'completed' || duration > 0) ? duration : undefined,
    answeredBy: textParam(params, 'AnsweredBy', 32),
    errorCode: intParam(params, 'ErrorCode'),
  };
}

/**
 * What a message status callback says about the message, received at `receivedAt`. Callbacks carry
 * no time and no error text: a status that means the message left Twilio dates `sent_at` when it is
 * still unknown (a read replaces it with Twilio's own), and the error code is named from Twilio's
 * error dictionary.
 */
export function messageObservationOf(params: TwilioParams, receivedAt?: Date): MessageObservation {
  const status = asMessageStatus(param(params, 'MessageStatus') ?? param(params, 'SmsStatus'));
  const errorCode = intParam(params, 'ErrorCode');
  return {
    status,
    occurredAt: receivedAt,
    errorCode,
    errorMessage: param(params, 'ErrorMessage') ?? (errorCode === undefined ? undefined : (twilioErrorTitle(errorCode) ?? undefined)),
    sentNoLaterThan: status && LEFT_TWILIO.has(status) ? (receivedAt ?? new Date()) : undefined,
  };
}

/** Message statuses that mean Twilio handed the message to the carrier. */
const LEFT_TWILIO = new Set<MessageStatus>(['sent', 'delivered', 'undelivered', 'read']);

const RECORDING_STATUSES = ['in-progress', 'paused', 'stopped', 'processing', 'completed', 'absent', 'failed'];

export function recordingOf(params: TwilioParams): RecordingUpsert | null {
  const sid = sidParam(params, 'RecordingSid');
  const callSid = sidParam(params, 'CallSid');
  const status = param(params, 'RecordingStatus');
  // Only statuses Twilio documents: anything else is not a recording event we can store.
  if (!sid || !callSid || !status || !RECORDING_STATUSES.includes(status)) return null;
  const duration = intParam(params, 'RecordingDuration', { min: -1, max: INT_COLUMN.max });
  return {
    sid,
    callSid,
    status,
    url: param(params, 'RecordingUrl') ?? null,
    durationSeconds: duration !== undefined && duration >= 0 ? duration : null,
    channels: intParam(params, 'RecordingChannels') ?? null,
    source: param(params, 'RecordingSource')?.slice(0, 32) ?? null,
    startedAt: dateParam(params, 'RecordingStartTime') ?? null,
  };
}

/** MediaUrl0..N, in order. */
export function mediaUrlsOf(params: TwilioParams): string[] {
  const urls: string[] = [];
  // Twilio attaches at most 10 media; a larger NumMedia must not make this loop run on and on.
  const declared = Math.min(intParam(params, 'NumMedia') ?? 0, 10);
  for (let i = 0; i < 10; i++) {
    const url = param(params, `MediaUrl${i}`);
    if (url) urls.push(url);
    else if (i >= declared) break;
  }
  return urls;
}

/** The parameters that identify a webhook in a log line, phone numbers left for the caller to mask. */
export function sidOf(params: TwilioParams): string | undefined {
  return param(params, 'RecordingSid') ?? param(params, 'MessageSid') ?? param(params, 'SmsSid') ?? param(params, 'CallSid');
}

/**
 * Webhook parameters as strings, whether they came form-encoded or as a flat JSON object. Characters
 * PostgreSQL cannot store (NUL, lone surrogates) become U+FFFD: Twilio has already delivered the
 * message, so it is kept as faithfully as the database allows rather than refused.
 */
export function normalizeParams(body: unknown): TwilioParams {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
  const params: TwilioParams = {};
  const replaced = new Set<string>();
  const storable = (name: string, text: string): string => {
    if (!hasUnstorableChar(text)) return text;
    replaced.add(name);
    return replaceUnstorableChars(text);
  };
  for (const [rawName, value] of Object.entries(body as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    const name = storable(rawName, rawName);
    if (Array.isArray(value)) params[name] = value.map((v) => storable(name, typeof v === 'string' ? v : JSON.stringify(v)));
    else
      params[name] = storable(
        name,
        typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value),
      );
  }
  if (replaced.size) {
    appLogger().event('warn', 'webhook_param_replaced', {
      params: [...replaced].sort(),
      reason: 'characters the database cannot store',
      sid: sidOf(params),
    });
  }
  return params;
}

export interface SmsKeyword {
  action: 'stop' | 'start' | 'help';
  word: string;
}

const STOP_WORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'];
const START_WORDS = ['START', 'UNSTOP', 'YES'];
const HELP_WORDS = ['HELP', 'INFO'];

/** The opt-out keyword a whole message body is (trimmed, any case), or null. */
export function smsKeyword(body: string | undefined): SmsKeyword | null {
  const word = (body ?? '').trim().toUpperCase();
  if (STOP_WORDS.includes(word)) return { action: 'stop', word };
  if (START_WORDS.includes(word)) return { action: 'start', word };
  if (HELP_WORDS.includes(word)) return { action: 'help', word };
  return null;
}
