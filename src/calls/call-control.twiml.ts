import { appendSay, hangupTwiml, voiceResponse } from '../twilio/twiml';

export interface TransferTwimlInput {
  to: string;
  callerId: string;
  /** Where Twilio reports how the dial ended (DialCallStatus, DialCallSid). */
  actionUrl: string;
  /** Where the dialed party's whisper TwiML is served, before it is connected; none without a whisper. */
  whisperUrl: string | null;
}

/** What a live call runs to be transferred: `<Dial>` to the number, with the whisper played to the answering party. */
export function transferTwiml(input: TransferTwimlInput): string {
  const response = voiceResponse();
  const dial = response.dial({ action: input.actionUrl, method: 'POST', callerId: input.callerId });
  dial.number(input.whisperUrl ? { url: input.whisperUrl, method: 'POST' } : {}, input.to);
  return response.toString();
}

/** Spoken to the transfer target before the caller is connected; an empty document connects at once. */
export function whisperTwiml(whisper: string | null, options: { voice?: string; language?: string } = {}): string {
  const response = voiceResponse();
  if (whisper) appendSay(response, whisper, options);
  return response.toString();
}

/** The voicemail spoken after the beep, then the end of the call. */
export function voicemailDropTwiml(message: string, options: { voice?: string; language?: string } = {}): string {
  const response = voiceResponse();
  appendSay(response, message, options);
  response.hangup();
  return response.toString();
}

/** After a transfer's dial: the caller was connected, or nobody took the call; either way this call is done. */
export function transferEndedTwiml(): string {
  return hangupTwiml();
}
