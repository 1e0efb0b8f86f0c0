import type { Readable } from 'node:stream';

/** Our own view of Twilio resources; nothing outside src/twilio sees the SDK's types. */

export type CallStatus = 'queued' | 'initiated' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

export const TERMINAL_CALL_STATUSES: readonly CallStatus[] = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];
export const CALL_STATUSES: readonly CallStatus[] = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'no-answer',
  'failed',
  'canceled',
];

export type MessageStatus =
  | 'accepted'
  | 'scheduled'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'undelivered'
  | 'failed'
  | 'receiving'
  | 'received'
  | 'read'
  | 'canceled';

export const MESSAGE_STATUSES: readonly MessageStatus[] = [
  'accepted',
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'receiving',
  'received',
  'read',
  'canceled',
];
export const TERMINAL_MESSAGE_STATUSES: readonly MessageStatus[] = ['delivered', 'undelivered', 'failed', 'received', 'read', 'canceled'];

export type Direction = 'inbound' | 'outbound';

export function isTerminalCallStatus(status: string): boolean {
  return (TERMINAL_CALL_STATUSES as readonly string[]).includes(status);
}

export function isTerminalMessageStatus(status: string): boolean {
  return (TERMINAL_MESSAGE_STATUSES as readonly string[]).includes(status);
}

export interface Capabilities {
  voice: boolean;
  sms: boolean;
  mms: boolean;
}

export type NumberType = 'local' | 'toll_free' | 'mobile';

export interface NumberSearch {
  country: string;
  type: NumberType;
  areaCode?: number;
  contains?: string;
  smsEnabled?: boolean;
  voiceEnabled?: boolean;
  mmsEnabled?: boolean;
  limit: number;
}

export interface AvailableNumber {
  phoneNumber: string;
  friendlyName: string;
  locality: string | null;
  region: string | null;
  postalCode: string | null;
  isoCountry: string;
  capabilities: Capabilities;
}

export interface NumberWebhooks {
  voiceUrl?: string;
  smsUrl?: string;
  statusCallbackUrl?: string;
}

export interface OwnedNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  capabilities: Capabilities;
  voiceUrl: string | null;
  smsUrl: string | null;
  /** Where Twilio sends the final status of the number's inbound calls; null when nowhere. */
  statusCallbackUrl: string | null;
  /** GET or POST, as Twilio reports it; null when Twilio leaves it out. */
  statusCallbackMethod: string | null;
  dateCreated: Date | null;
}

export interface PlaceCallInput {
  to: string;
  from: string;
  /** Inline TwiML; exclusive with twimlUrl. */
  twiml?: string;
  twimlUrl?: string;
  statusCallbackUrl: string;
  record: boolean;
  recordingStatusCallbackUrl?: string;
  timeoutSeconds?: number;
  machineDetection?: boolean;
  /**
   * Asynchronous answering-machine detection that waits for the end of a machine's greeting
   * (DetectMessageEnd): the call runs its TwiML at once and the result is POSTed here.
   */
  asyncAmdCallbackUrl?: string;
}

export interface CallSnapshot {
  sid: string;
  direction: Direction;
  from: string;
  to: string;
  status: CallStatus;
  startTime: Date | null;
  endTime: Date | null;
  durationSeconds: number | null;
  price: string | null;
  priceUnit: string | null;
  answeredBy: string | null;
  queueTimeMs: number | null;
  dateCreated: Date | null;
  /** Set on the legs a call dials (`<Dial>`); absent when the source does not say. */
  parentCallSid?: string | null;
}

/** Narrows a list of calls or messages to one number on either side. */
export interface TwilioListFilter {
  to?: string;
  from?: string;
}

/** How a page-by-page walk of a list goes. */
export interface TwilioWalkOptions {
  /** Resources per page (Twilio allows 1..1000); default 1000. */
  pageSize?: number;
  /** Asked before each next page; false stops the walk (the walk then returns false). */
  shouldContinue?: () => boolean;
}

/** How many resources a list returns at most when the caller does not say. */
export const DEFAULT_LIST_LIMIT = 1000;

export interface SendMessageInput {
  to: string;
  from: string;
  body?: string;
  mediaUrls?: string[];
  statusCallbackUrl?: string;
}

export interface MessageSnapshot {
  sid: string;
  direction: Direction;
  from: string;
  to: string;
  body: string;
  status: MessageStatus;
  segments: number;
  mediaCount: number;
  errorCode: number | null;
  errorMessage: string | null;
  price: string | null;
  priceUnit: string | null;
  dateSent: Date | null;
  dateCreated: Date | null;
}

export interface Balance {
  balance: string;
  currency: string;
}

export interface AccountInfo {
  sid: string;
  status: string;
  friendlyName: string | null;
}

export interface TwilioTarget {
  /** 'sandbox' when the service talks to our Twilio sandbox, 'live' for api.twilio.com or another host. */
  mode: 'sandbox' | 'live';
  baseUrl: string;
}

/** A call recording as Twilio lists it. */
export interface RecordingSnapshot {
  sid: string;
  callSid: string;
  /** in-progress, paused, stopped, processing, completed, absent, failed, deleted. */
  status: string;
  durationSeconds: number | null;
  channels: number | null;
  source: string | null;
  startTime: Date | null;
  /** Absolute URL of the media (without extension). */
  mediaUrl: string | null;
}

export type RecordingFormat = 'wav' | 'mp3';

/** A recording's audio as Twilio serves it, streamed: nothing is buffered beyond the stream's own chunks. */
export interface RecordingMedia {
  /** 200 for the whole file, 206 for the byte range asked for. */
  status: 200 | 206;
  contentType: string;
  /** Bytes in `body`; null when Twilio did not say. */
  contentLength: number | null;
  /** `bytes 0-99/2000` on a 206. */
  contentRange: string | null;
  /** `bytes` when Twilio serves byte ranges. */
  acceptRanges: string | null;
  body: Readable;
}

/** What a request got: the audio, or Twilio's 416 for a range outside the file (contentRange then names its length). */
export type RecordingMediaAnswer = RecordingMedia | { status: 416; contentRange: string | null };
