import type { CallParty, PartyScript } from './party-scripts';
import { MICRO } from './wire';

export type CallStatus = 'queued' | 'initiated' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';
export type MessageStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'received';

/** Twilio's final statuses: once a call or message has one, it never changes again. */
export const TERMINAL_CALL_STATUSES: readonly CallStatus[] = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];
export const TERMINAL_MESSAGE_STATUSES: readonly MessageStatus[] = ['delivered', 'undelivered', 'failed', 'received'];

/** One TwiML verb as the sandbox executed it, with the talk time it took. */
export interface ExecutedVerb {
  verb: string;
  seconds: number;
  text?: string;
  attributes: Record<string, string>;
  /** What a <Gather> or a <Record> heard: the turn of the other party it consumed. */
  input?: GatherInput;
  /** How a <Dial> went. */
  dial?: DialOutcome;
}

/** The turn a <Gather> consumed, and what it sent to its action (none when it fell through). */
export type GatherInput = { speech: string; confidence: number } | { digits: string } | { silence: true } | { hangup: true };

export interface DialOutcome {
  to: string;
  callSid: string | null;
  status: 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';
  duration: number | null;
}

export interface SandboxCall {
  sid: string;
  to: string;
  from: string;
  direction: 'outbound-api' | 'inbound' | 'outbound-dial';
  /** The call whose <Dial> placed this one (direction outbound-dial). */
  parentCallSid?: string | null;
  status: CallStatus;
  dateCreated: Date;
  dateUpdated: Date;
  startTime: Date | null;
  endTime: Date | null;
  /** Seconds, set on the terminal status. */
  duration: number | null;
  /** In 1/100000 USD, set on the terminal status. */
  price: number | null;
  queueTimeMs: number;
  answeredBy: string | null;
  phoneNumberSid: string | null;
  url: string | null;
  method: string;
  twiml: string | null;
  fallbackUrl: string | null;
  fallbackMethod: string;
  statusCallback: string | null;
  statusCallbackMethod: string;
  statusCallbackEvents: string[];
  timeout: number;
  record: boolean;
  recordingStatusCallback: string | null;
  recordingStatusCallbackMethod: string;
  recordingStatusCallbackEvents: string[];
  machineDetection: string | null;
  /** AsyncAmd=true: the TwiML runs at once and the AMD result goes to asyncAmdStatusCallback. */
  asyncAmd?: boolean;
  asyncAmdStatusCallback?: string | null;
  asyncAmdStatusCallbackMethod?: string;
  machineDetectionTimeout?: number;
  /** The other party's script for this call (taken when its first <Gather> listens); null: none. */
  party?: CallParty | null;
  sipResponseCode: number | null;
  sequenceNumber: number;
  executed: ExecutedVerb[];
  recordingSids: string[];
  /** Virtual seconds of talk time still to run once answered. */
  talkSeconds: number;
}

export interface SandboxMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  mediaUrls: string[];
  /** The Media subresource's `ME` sids, one per media URL, in the same order. */
  mediaSids: string[];
  direction: 'outbound-api' | 'outbound-reply' | 'inbound';
  status: MessageStatus;
  numSegments: number;
  encoding: string;
  errorCode: number | null;
  errorMessage: string | null;
  price: number | null;
  statusCallback: string | null;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
}

export interface SandboxNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string | null;
  voiceMethod: string;
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: string;
  smsUrl: string | null;
  smsMethod: string;
  smsFallbackUrl: string | null;
  smsFallbackMethod: string;
  statusCallback: string | null;
  statusCallbackMethod: string;
  capabilities: { voice: boolean; sms: boolean; mms: boolean; fax: boolean };
  dateCreated: Date;
  dateUpdated: Date;
}

export interface SandboxRecording {
  sid: string;
  callSid: string;
  duration: number;
  source: 'OutboundAPI' | 'RecordVerb';
  channels: number;
  track: 'inbound' | 'outbound' | 'both';
  dateCreated: Date;
  startTime: Date;
}

export type UsageCategory = 'calls' | 'sms' | 'phonenumbers';

export interface UsageEntry {
  category: UsageCategory;
  at: Date;
  count: number;
  usage: number;
  price: number;
}

export interface CallbackDelivery {
  id: number;
  /** call-status, message-status, recording-status, voice-url, sms-url, record-action, gather-action... */
  kind: string;
  resourceSid: string | null;
  url: string;
  method: string;
  params: Record<string, string>;
  headers: Record<string, string>;
  attempt: number;
  status: number | null;
  error: string | null;
  sentAt: string;
}

export interface Pricing {
  voicePerMinute: number;
  smsPerSegment: number;
  numberPerMonth: number;
}

export const DEFAULT_PRICING: Pricing = {
  voicePerMinute: 0.0085 * MICRO,
  smsPerSegment: 0.0075 * MICRO,
  numberPerMonth: 1 * MICRO,
};

export class SandboxState {
  readonly calls = new Map<string, SandboxCall>();
  readonly messages = new Map<string, SandboxMessage>();
  readonly numbers = new Map<string, SandboxNumber>();
  readonly recordings = new Map<string, SandboxRecording>();
  readonly usage: UsageEntry[] = [];
  readonly callbacks: CallbackDelivery[] = [];
  /** What the person at each number does on a call (keyed by E.164 number). */
  readonly scripts = new Map<string, PartyScript>();
  balance: number;

  constructor(
    private readonly initialBalance: number,
    readonly createdAt: Date,
  ) {
    this.balance = initialBalance;
  }

  charge(category: UsageCategory, at: Date, count: number, usage: number, price: number): void {
    this.balance -= price;
    this.usage.push({ category, at, count, usage, price });
  }

  numberByPhone(phoneNumber: string): SandboxNumber | undefined {
    for (const number of this.numbers.values()) if (number.phoneNumber === phoneNumber) return number;
    return undefined;
  }

  clear(): void {
    this.calls.clear();
    this.messages.clear();
    this.numbers.clear();
    this.recordings.clear();
    this.usage.length = 0;
    this.callbacks.length = 0;
    this.scripts.clear();
    this.balance = this.initialBalance;
  }
}
