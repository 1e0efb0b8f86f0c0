import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, IsUUID, IsUrl, Matches, Max, MaxLength, Min } from 'class-validator';
import { ApiExactlyOneOf } from '../common/api-schema-rule';
import { DIRECTIONS, HistoryQueryDto } from '../common/history-query.dto';
import { ApiMetadata, IsMetadata, IsMetadataFilter, Metadata } from '../common/metadata';
import { IsE164 } from '../common/phone-number';
import { IsXmlText } from '../common/xml-text';
import { INTENT_STATUSES } from '../common/intent-status';
import { SID_OR_ID_PARAM_PATTERN } from '../common/sid-param';
import { CALL_STATUSES } from '../twilio/twilio.types';
import type { CallStatus, Direction } from '../twilio/twilio.types';
import type { CallRecordStatus } from './call-record.entity';
import { CALL_ENDED_BY, CALL_OUTCOMES } from './call-report';
import { CALL_CONTROL_ENTRIES } from './call-status.rules';
import type { CallControlEntry } from './call-status.rules';
import type { CallEndedBy, CallOutcome } from './call-report';

const CALL_RECORD_STATUSES: readonly CallRecordStatus[] = [...INTENT_STATUSES, ...CALL_STATUSES];

/** Places an outbound call that speaks a message, plays audio or runs TwiML. */
@ApiExactlyOneOf('message', 'audio_url', 'twiml', 'assistant_id')
export class PlaceCallDto {
  /**
   * Number to call, in E.164 form.
   * @example +14155550100
   */
  @IsE164()
  to: string;

  /**
   * Text spoken to the callee with `<Say>`, up to 20000 characters. Exactly one of `message`, `audio_url` and
   * `twiml` is required.
   * @example Hello! This is Samsaek AI Assistant calling.
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(20000)
  @IsXmlText()
  message?: string;

  /**
   * Public http(s) URL of an audio file played to the callee with `<Play>`.
   * @example https://example.com/audio/welcome.mp3
   */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'audio_url must be an http(s) URL' })
  @MaxLength(2000)
  audio_url?: string;

  /**
   * A complete TwiML document with a single `<Response>` root, at most 4000 characters.
   * @example <Response><Say voice="alice">How can I help you today?</Say></Response>
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  twiml?: string;

  /**
   * Starts a conversation: the assistant (an id from /api/phone/assistants) speaks its `first_message` when the
   * call is answered, then listens, and each turn goes to its agent. Its voice and language apply; `voice` and
   * `language` here are not accepted with it.
   * @example 7d0f5c3e-2b1a-4e6f-9a8b-1c2d3e4f5a6b
   */
  @IsOptional()
  @IsUUID('all', { message: 'assistant_id must be an assistant id (a uuid)' })
  assistant_id?: string;

  /**
   * Caller ID in E.164 form; defaults to the service's Twilio number.
   * @example +14155550199
   */
  @IsOptional()
  @IsE164()
  from?: string;

  /**
   * Name of the AI agent on whose behalf the call is placed.
   * @example Samsaek Assistant
   */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  agent_name?: string;

  /**
   * Record the call.
   * @example false
   */
  @IsOptional()
  @IsBoolean()
  record?: boolean;

  /**
   * Text-to-speech voice for `message` (alice, man, woman, Polly.*, Google.*).
   * @example alice
   */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'voice must be a Twilio voice name such as alice or Polly.Joanna' })
  voice?: string;

  /**
   * Language of `message`, a BCP 47 tag such as en-US (a bare language such as en is accepted).
   * @example en-US
   */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$/, { message: 'language must be a language tag such as en-US or en' })
  @MaxLength(16)
  language?: string;

  /**
   * Why the call is made, free text for reporting.
   * @example customer_support
   */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  call_purpose?: string;

  /**
   * Identifier of the workflow that placed the call.
   * @example support_001
   */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  workflow_id?: string;

  /**
   * Seconds to let the phone ring before giving up.
   * @example 30
   */
  @IsOptional()
  @IsInt()
  @Min(5)
  @Max(600)
  timeout?: number;

  /**
   * Detect whether a human or a machine answered (reported in `answered_by`).
   * @example false
   */
  @IsOptional()
  @IsBoolean()
  machine_detection?: boolean;

  /**
   * Left on an answering machine, up to 20000 characters: the call is placed with asynchronous answering-machine
   * detection that waits for the end of the greeting; when a machine answered, this text is spoken after the beep
   * and the call hangs up (outcome `voicemail`). A person who answers hears the call's own content. A call placed
   * with `message` or `audio_url` stays open up to 30 seconds after it so the beep can still be heard; TwiML of your
   * own must keep the line open itself.
   * @example Hi, this is Samsaek calling about your appointment. Please call us back at 415 555 0199.
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(20000)
  @IsXmlText()
  voicemail_message?: string;

  /**
   * Your own labels for the call (up to 20 keys of at most 40 characters, string values of at most 500),
   * returned with it everywhere and usable as a history filter.
   * @example {"conversation_id": "conv_8f2a1c", "customer_id": "cus_1042"}
   */
  @IsOptional()
  @IsMetadata()
  metadata?: Metadata;
}

/** Something to say on a live call. */
export class SayOnCallDto {
  /**
   * Text spoken now, interrupting what the call is doing, up to 4000 characters.
   */
  @ApiProperty({ example: 'One moment please, checking the calendar.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  @IsXmlText()
  text: string;

  /** Text-to-speech voice; the assistant's (or alice) when not given. @example Polly.Joanna */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'voice must be a Twilio voice name such as alice or Polly.Joanna' })
  voice?: string;
}

/** Transfers a live call to another number. */
export class TransferCallDto {
  /**
   * Number to connect the call to, in E.164 form.
   * @example +14155550123
   */
  @IsE164()
  to: string;

  /**
   * Spoken to whoever answers at `to` before the caller is connected (up to 4000 characters), in the call's voice.
   * @example Transferring a customer who wants to move an appointment.
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  @IsXmlText()
  whisper?: string;

  /**
   * Caller ID shown at `to`, in E.164 form; defaults to this service's number on the call (the caller ID of an outbound
   * call, the number called for an inbound one). Twilio accepts only numbers of the account or verified ones.
   * @example +14155550199
   */
  @IsOptional()
  @IsE164()
  caller_id?: string;
}

export const TRANSFER_STATUSES = ['requested', 'completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled'] as const;

/** A transfer of the call (POST calls/{sid}/transfer), the latest one. */
export class CallTransferDto {
  /** The number dialed. @example +14155550123 */
  to: string;
  /** Spoken to the answering party before connecting. */
  whisper: string | null;
  /** Caller ID shown to `to`. @example +14155550199 */
  caller_id: string | null;
  /**
   * `requested` until Twilio reports how the dial ended, then Twilio's DialCallStatus: `completed` or `answered`
   * (connected), `busy`, `no-answer`, `failed`, `canceled`.
   * @example completed
   */
  @ApiProperty({ enum: TRANSFER_STATUSES, enumName: 'CallTransferStatus' })
  status: (typeof TRANSFER_STATUSES)[number];
  /** When the transfer was asked for. */
  requested_at: Date;
  /** Token subject that asked for it. @example agent-service */
  requested_by: string | null;
  /** Twilio's sid of the leg dialed to `to` (DialCallSid), once reported. @example CA00112233445566778899aabbccddeeff */
  call_sid: string | null;
  /** Talk time of the transferred leg in seconds (DialCallDuration), once reported. @example 42 */
  duration: number | null;
}

/** Filters and paging of the call history. */
export class CallHistoryQueryDto extends HistoryQueryDto {
  /** Only calls in this status (`initiating` and `unknown` included). */
  @ApiProperty({ enum: CALL_RECORD_STATUSES, enumName: 'CallStatus', required: false })
  @IsOptional()
  @IsIn(CALL_RECORD_STATUSES)
  status?: CallRecordStatus;

  /** Only calls of this workflow, e.g. support_001. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  workflow_id?: string;

  /** Only calls with this metadata: `metadata[key]=value`, several ANDed. */
  @IsOptional()
  @IsMetadataFilter()
  metadata?: Metadata;
}

export class CallSidParamsDto {
  /**
   * Twilio call SID (CA followed by 32 hex characters) or the record's `id` (a UUID, known before Twilio
   * answers). One we do not know, well-formed or not, is a 404.
   * @example CA0123456789abcdef0123456789abcdef
   */
  @ApiProperty({ pattern: SID_OR_ID_PARAM_PATTERN.source })
  @Matches(SID_OR_ID_PARAM_PATTERN, { message: 'sid must be a Twilio sid (2 to 64 letters and digits) or a record id (UUID)' })
  sid: string;
}

const CALL_TIMELINE_ENTRIES = [...CALL_RECORD_STATUSES, ...CALL_CONTROL_ENTRIES] as const;

/** One status the call was seen in, or something done to it while it was live. */
export class CallTimelineEntryDto {
  /**
   * A status, or what was done to the live call: `transferring` (Twilio took a transfer), `transferred` or
   * `transfer-failed` (how its dial ended), `voicemail-left` (the voicemail message was handed to the call).
   * @example ringing
   */
  @ApiProperty({ enum: CALL_TIMELINE_ENTRIES, enumName: 'CallTimelineStatus' })
  status: CallStatus | CallControlEntry;
  /** Twilio's callback SequenceNumber; -1 when the status was seen through the API. @example 1 */
  sequence_number: number;
  /** Where the status came from: api, webhook, refresh or reconcile. @example webhook */
  source: string;
  /** When the status was reached (or observed). */
  occurred_at: Date;
  /** Twilio error code reported with the status. @example null */
  error_code: number | null;
}

/**
 * A call as the service knows it. Before Twilio confirms a call its record has an `id` but no `sid`:
 * status `initiating` while the request is on its way, `unknown` when Twilio's answer was lost. Look
 * such a record up by `id` (GET /api/phone/calls/{id}) until it has a sid or ends `failed`; never
 * place the call again to find out, that may call the person twice.
 */
export class CallDto {
  /** The record's id; GET /api/phone/calls/{id} finds the call with it. @example 0b6c1f2e-5d8a-4c3b-9e7f-1a2b3c4d5e6f */
  id: string;
  /** Twilio call SID; null until Twilio has confirmed the call. @example CA0123456789abcdef0123456789abcdef */
  sid: string | null;
  /** @example outbound */
  @ApiProperty({ enum: DIRECTIONS, enumName: 'Direction' })
  direction: Direction;
  /** Caller, E.164. @example +14155550199 */
  from: string;
  /** Callee, E.164. @example +14155550100 */
  to: string;
  /**
   * Current status: Twilio's, or `initiating` (asked, Twilio's answer not stored yet) or `unknown`
   * (Twilio's answer was lost; reconciliation finds out, and a call Twilio never received ends `failed`).
   * @example completed
   */
  @ApiProperty({ enum: CALL_RECORD_STATUSES, enumName: 'CallStatus' })
  status: CallRecordStatus;
  /** Text spoken with `<Say>`, when the call was placed with a message. */
  message: string | null;
  /** Audio played with `<Play>`, when the call was placed with an audio URL. */
  audio_url: string | null;
  /** The TwiML the call ran, when it was placed with TwiML. */
  twiml: string | null;
  /** Text-to-speech voice. @example alice */
  voice: string | null;
  /** Text-to-speech language. @example en-US */
  language: string | null;
  /** Whether the call is recorded. @example false */
  record: boolean;
  /** AI agent the call was placed for. @example Samsaek Assistant */
  agent_name: string | null;
  /** @example customer_support */
  call_purpose: string | null;
  /** @example support_001 */
  workflow_id: string | null;
  /** Your labels for the call, as placed; `{}` when none were given (and for inbound calls). */
  @ApiMetadata()
  metadata: Metadata;
  /** The assistant holding a conversation on the call; null for calls without one. @example null */
  assistant_id: string | null;
  /** Subject of the token that placed the call; null for inbound calls. @example agent-service */
  created_by: string | null;
  /** When the callee's phone was reached. */
  start_time: Date | null;
  /** When the call ended. */
  end_time: Date | null;
  /** Talk time in seconds, once the call ended. @example 42 */
  duration: number | null;
  /** What Twilio charged, as a decimal string with Twilio's sign (negative = charge); null until Twilio reports it. @example "-0.00850" */
  price: string | null;
  /** ISO 4217 currency of `price`. @example USD */
  price_unit: string | null;
  /** Who answered, with machine detection (human, machine_start, ...). @example human */
  answered_by: string | null;
  /** Milliseconds the call waited in Twilio's queue before dialing. @example 0 */
  queue_time_ms: number | null;
  /** Twilio error code, when the call failed. @example null */
  error_code: number | null;
  /** Twilio error message, when the call failed. @example null */
  error_message: string | null;
  /** When POST calls/{sid}/hangup asked this service to end the call; null when nobody did. @example null */
  hangup_requested_at: Date | null;
  /** Token subject that asked for the hangup. @example null */
  hangup_requested_by: string | null;
  /** Text left on an answering machine, when the call was placed with one. @example null */
  voicemail_message: string | null;
  /** When the voicemail message was handed to the call, after a machine's beep; null when none was left. @example null */
  voicemail_left_at: Date | null;
  /** The call's transfer, when POST calls/{sid}/transfer asked for one. */
  transfer: CallTransferDto | null;
  created_at: Date;
  updated_at: Date;
  /** Every status the call was seen in, oldest first (only on GET /api/phone/calls/{sid}). */
  timeline?: CallTimelineEntryDto[];
  /** The conversation an assistant held on the call, oldest turn first (only on GET /api/phone/calls/{sid}; empty without one). */
  transcript?: CallTranscriptEntryDto[];
}

/** One page of the call history, newest first. */
export class CallHistoryDto {
  calls: CallDto[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  next_cursor: string | null;
}

/** One recording of a call. */
export class RecordingDto {
  /** Twilio's recording sid. @example RE0123456789abcdef0123456789abcdef */
  sid: string;
  /** The call it belongs to. @example CA0123456789abcdef0123456789abcdef */
  call_sid: string;
  /**
   * Where to download the audio with your bearer token (`phone:view`): this service's
   * GET /api/phone/recordings/{sid}/audio, WAV by default, MP3 with `?format=mp3`; no Twilio
   * credentials needed. Null until the recording is completed.
   * @example https://phone.example.com/api/phone/recordings/RE0123456789abcdef0123456789abcdef/audio
   */
  url: string | null;
  /** in-progress, completed, absent or failed. @example completed */
  status: string;
  /** Length in seconds. @example 12 */
  duration: number | null;
  /** 1 (mono) or 2 (dual). @example 1 */
  channels: number | null;
  /** What started the recording, e.g. OutboundAPI (record=true) or RecordVerb (voicemail). @example OutboundAPI */
  source: string | null;
  /** When the recording started (ISO 8601). */
  started_at: string | null;
  /** When we first heard of it (ISO 8601). */
  created_at: string;
}

/** The recordings of one call, oldest first. */
export class RecordingListDto {
  recordings: RecordingDto[];
}

/** The price list an estimate used (the PRICE_* settings). */
export class CallCostPricingDto {
  /** Price of a started minute of talk time, decimal string. @example 0.00850 */
  voice_per_minute: string;
  /** @example USD */
  currency: string;
}

/** What the call cost. */
export class CallCostDto {
  /** What was charged, as a positive decimal string with 5 decimals. @example 0.01700 */
  amount: string;
  /** ISO 4217 currency of `amount`. @example USD */
  currency: string;
  /**
   * `twilio`: Twilio's reported price; `estimate`: not reported (yet), estimated from the price list
   * as billable minutes × voice_per_minute.
   * @example twilio
   */
  @ApiProperty({ enum: ['twilio', 'estimate'], enumName: 'CallCostSource' })
  source: 'twilio' | 'estimate';
  /** Started minutes of talk time (0 for a call nobody answered). @example 2 */
  billable_minutes: number;
  /** The price list the estimate used; null when the amount is Twilio's price. */
  pricing: CallCostPricingDto | null;
}

/** One turn of the conversation an assistant held on the call. */
export class CallTranscriptEntryDto {
  /** Order within the call, from 1. @example 2 */
  seq: number;
  /** Who: `assistant` or `caller`. @example caller */
  @ApiProperty({ enum: ['assistant', 'caller'], enumName: 'TurnRole' })
  role: 'assistant' | 'caller';
  /** What was said; null for a caller turn of keys only, or of silence. @example I would like to move my appointment */
  text: string | null;
  /** Speech recognition confidence (0 to 1) of a caller's words. */
  @ApiProperty({ type: 'number', format: 'double', nullable: true, example: 0.92 })
  confidence: number | null;
  /** Keys the caller pressed. @example null */
  digits: string | null;
  /** When the turn was taken (a caller's: when Twilio sent the result). */
  at: Date;
}

/** A turn as `call.turn` tells it: the transcript entry, with its call and how long the agent took. */
export class CallTurnDto extends CallTranscriptEntryDto {
  /** @example CA0123456789abcdef0123456789abcdef */
  call_sid: string;
  /** For a caller turn: milliseconds the agent took to answer it (null when it did not answer in time). @example 180 */
  agent_latency_ms: number | null;
}

/**
 * The end-of-call report: the call as GET /api/phone/calls/{sid} returns it (its fields, its
 * timeline), plus how it ended, what it cost and its recordings. A call still in flight is reported
 * too (`final` false, `outcome`, `ended_by` and `cost` null), so a client can poll one URL; once
 * `settled`, nothing in it changes any more and the platform is sent `call.report.ready`.
 */
export class CallReportDto extends CallDto {
  /**
   * How the call ended: Twilio's terminal status, or `voicemail` for a completed call answered by a
   * machine (machine detection on). Null while the call is in flight.
   * @example completed
   */
  @ApiProperty({ enum: CALL_OUTCOMES, enumName: 'CallOutcome', nullable: true })
  outcome: CallOutcome | null;
  /**
   * Who ended the call. Twilio does not report which party hung up, so it is inferred:
   * - `api`: our hangup endpoint (or a cancel through Twilio's API), or our TwiML ended the call:
   *   it hung up (an assistant's hang-up, an end phrase, `max_turns`, a voicemail left, the inbound
   *   greeting of `INBOUND_ACTION=hangup`, the greeting's voicemail once the caller ended it with a
   *   key, by falling silent or at its 120 s limit, or said nothing into it, the end of a transfer or
   *   of the greeting's forward nobody took on a call without an assistant) or simply ran out (a
   *   placed call's `message`, `audio_url` or `twiml` played to its end);
   * - `timeout`: nobody answered within `timeout`, Twilio's 4-hour call limit, or an assistant's
   *   `silence_limit` or `max_duration_seconds` ended the conversation;
   * - `callee` / `caller`: a busy line (`callee`); or the call completed while our TwiML was waiting
   *   for the other party (an assistant listening, a `<Gather>` or `<Record>` in progress, such as the
   *   inbound greeting's voicemail, whose action then says `Digits=hangup`), so they hung up: the
   *   callee of an outbound call, the caller of an inbound one; the same when they hung up while a
   *   transfer or the greeting of `INBOUND_ACTION=forward` bridged them (Twilio requests the `<Dial>`'s action with the call
   *   already `completed`);
   * - `transfer_target`: the party a transfer or the greeting's forward connected hung up (the
   *   `<Dial>` action came with `DialCallStatus=completed` while the call was still up) and we then
   *   ended the call; a dial nobody took (`busy`, `no-answer`, `failed`) is not this: an assistant's
   *   call goes back to its conversation, which decides as above, any other call hangs up (`api`);
   * - `unknown`: a failed call (the network ended it), or a call last bridged by a `<Dial>` without an
   *   action URL of ours (a `<Dial>` in a placed call's `twiml`): Twilio tells nobody but that action
   *   how the bridge ended.
   *
   * A document that hangs up or runs out counts as ended by us even if the other party hung up
   * during its last words. Null while the call is in flight.
   * @example callee
   */
  @ApiProperty({ enum: CALL_ENDED_BY, enumName: 'CallEndedBy', nullable: true })
  ended_by: CallEndedBy | null;
  /** When the callee answered (the `in-progress` status of the timeline); null when nobody did. */
  answered_at: Date | null;
  /** What the call cost; null while it is in flight. */
  cost: CallCostDto | null;
  /** The call's recordings, oldest first, with their download URLs. */
  recordings: RecordingDto[];
  @ApiProperty({ type: [CallTimelineEntryDto], required: true, description: 'Every status the call was seen in, oldest first.' })
  timeline: CallTimelineEntryDto[];
  @ApiProperty({
    type: [CallTranscriptEntryDto],
    required: true,
    description: 'The conversation an assistant held on the call, oldest turn first; empty for calls without one.',
  })
  transcript: CallTranscriptEntryDto[];
  /** The call has ended: outcome, ended_by and the times no longer change. @example true */
  final: boolean;
  /**
   * Final, and nothing more is waited for: Twilio's price and the call's recordings are in, or
   * REPORT_SETTLE_SECONDS have passed since the end (the estimate then stands in for the price).
   * @example true
   */
  settled: boolean;
  /** The latest time the report settles (the end + REPORT_SETTLE_SECONDS); null while the call is in flight. */
  settle_by: Date | null;
  /** When the service marked the report settled and sent `call.report.ready` (a few seconds after `settled`); null before. */
  ready_at: Date | null;
}
