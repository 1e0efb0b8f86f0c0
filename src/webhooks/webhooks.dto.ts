/* Twilio's own parameter names (PascalCase), documented here; the controller does not whitelist them. */

/** What Twilio posts to the voice webhook (a number's VoiceUrl, or the Url of a call we placed). Twilio may add parameters. */
export class TwilioVoiceWebhookDto {
  /** The call. @example CA0123456789abcdef0123456789abcdef */
  CallSid: string;
  /** The Twilio account. @example AC0123456789abcdef0123456789abcdef */
  AccountSid: string;
  /** The caller. @example +14155550100 */
  From: string;
  /** The number called. @example +14155550199 */
  To: string;
  /** Status of the call when Twilio asked for TwiML. @example ringing */
  CallStatus: string;
  /** `inbound` for a call to one of our numbers, `outbound-api` for a call we placed. @example inbound */
  Direction: string;
  /** Always 2010-04-01. @example 2010-04-01 */
  ApiVersion?: string;
  /** Number the call was forwarded from, when the carrier says. */
  ForwardedFrom?: string;
  /** Caller name, when caller-id lookup is on. */
  CallerName?: string;
  /** Set when Twilio requests the URL again after a <Record> finished. @example RE0123456789abcdef0123456789abcdef */
  RecordingSid?: string;
}

/** What Twilio posts to a `<Gather>`'s action URL: what the caller said or pressed (both empty after silence). */
export class TwilioGatherWebhookDto {
  /** The call. @example CA0123456789abcdef0123456789abcdef */
  CallSid: string;
  /** The Twilio account. @example AC0123456789abcdef0123456789abcdef */
  AccountSid: string;
  /** The transcribed speech; empty or absent when the caller said nothing. @example I would like to move my appointment */
  SpeechResult?: string;
  /** Recognition confidence, 0 to 1. @example "0.92" */
  Confidence?: string;
  /** Keys pressed. @example "1" */
  Digits?: string;
}

/** What Twilio posts to the messaging webhook (a number's SmsUrl). Twilio may add parameters. */
export class TwilioSmsWebhookDto {
  /** The message. @example SM0123456789abcdef0123456789abcdef */
  MessageSid: string;
  /** The Twilio account. @example AC0123456789abcdef0123456789abcdef */
  AccountSid: string;
  /** The sender. @example +14155550100 */
  From: string;
  /** Our number. @example +14155550199 */
  To: string;
  /** The text; STOP, START, HELP (and their synonyms) are keywords. @example Hello */
  Body: string;
  /** Number of segments. @example "1" */
  NumSegments?: string;
  /** Number of media attachments; MediaUrl0..N-1 carry them. @example "0" */
  NumMedia?: string;
  /** First media attachment (MediaUrl1, MediaUrl2... follow). */
  MediaUrl0?: string;
}

/**
 * A status callback. Recording callbacks carry RecordingSid + RecordingStatus, message callbacks
 * MessageSid + MessageStatus, call callbacks CallSid + CallStatus. Twilio may add parameters.
 */
export class TwilioStatusCallbackDto {
  /** The call (also on recording callbacks). @example CA0123456789abcdef0123456789abcdef */
  CallSid?: string;
  /** Call status at this event. @example completed */
  CallStatus?: string;
  /** Order of this call event (0, 1, 2...); callbacks may arrive out of order. @example "3" */
  SequenceNumber?: string;
  /** Call duration in seconds, on terminal events. @example "42" */
  CallDuration?: string;
  /** When the event happened (RFC 2822). @example Tue, 31 Aug 2010 20:36:44 +0000 */
  Timestamp?: string;
  /** Answering-machine detection result. @example human */
  AnsweredBy?: string;
  /** The message. @example SM0123456789abcdef0123456789abcdef */
  MessageSid?: string;
  /** Message status at this event. @example delivered */
  MessageStatus?: string;
  /** Twilio error code, for failed or undelivered messages. @example "30003" */
  ErrorCode?: string;
  /** The recording. @example RE0123456789abcdef0123456789abcdef */
  RecordingSid?: string;
  /** in-progress, completed, absent or failed. @example completed */
  RecordingStatus?: string;
  /** Where the recording's media is. */
  RecordingUrl?: string;
  /** Recording length in seconds. @example "12" */
  RecordingDuration?: string;
  /** 1 (mono) or 2 (dual). @example "1" */
  RecordingChannels?: string;
  /** What started the recording. @example OutboundAPI */
  RecordingSource?: string;
  /** When the recording started (RFC 2822). */
  RecordingStartTime?: string;
}

/** Asynchronous answering-machine detection's result (AsyncAmdStatusCallback). Twilio may add parameters. */
export class TwilioAmdCallbackDto {
  /** The call. @example CA0123456789abcdef0123456789abcdef */
  CallSid: string;
  /** The Twilio account. @example AC0123456789abcdef0123456789abcdef */
  AccountSid: string;
  /**
   * human, machine_end_beep, machine_end_silence, machine_end_other, fax or unknown (with DetectMessageEnd).
   * @example machine_end_beep
   */
  AnsweredBy: string;
  /** Milliseconds the detection took. @example "4200" */
  MachineDetectionDuration?: string;
}

/** What Twilio posts to a `<Dial>` action when the dial ends. Twilio may add parameters. */
export class TwilioDialActionDto {
  /** The call that dialed. @example CA0123456789abcdef0123456789abcdef */
  CallSid: string;
  /** The Twilio account. @example AC0123456789abcdef0123456789abcdef */
  AccountSid: string;
  /** completed, answered, busy, no-answer, failed or canceled. @example completed */
  DialCallStatus: string;
  /** The dialed leg. @example CA00112233445566778899aabbccddeeff */
  DialCallSid?: string;
  /** Talk time of the dialed leg in seconds. @example "42" */
  DialCallDuration?: string;
}

/** Webhook counters of this instance since it started (health, for phone:view). */
export class WebhookHealthDto {
  /** Authentic webhooks kept, per kind (inbound_call, inbound_sms, call_status, message_status, recording_status, call_twiml, call_amd, call_dial, call_forward). */
  received: Record<string, number>;
  /** Authentic webhooks already in the inbox (retries, duplicates), answered without effect. @example 0 */
  duplicates: number;
  /** Requests refused for a missing or invalid X-Twilio-Signature. @example 0 */
  rejected_signatures: number;
  /** Callbacks kept while their record did not exist yet. @example 0 */
  deferred: number;
  /** Deferred callbacks applied later. @example 0 */
  applied_late: number;
  /** Events this instance set aside after failing too often. @example 0 */
  set_aside: number;
}
