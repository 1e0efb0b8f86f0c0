import { appendSay, hangupTwiml, voiceResponse } from '../twilio/twiml';

/** What a placed call runs: its own TwiML document, or a message to speak and/or audio to play. */
export interface PlacedCallContent {
  twiml?: string | null;
  message?: string | null;
  audioUrl?: string | null;
  voice?: string | null;
  language?: string | null;
  /** A voicemail waits to be dropped: the line stays open while answering-machine detection listens for the beep. */
  voicemailMessage?: string | null;
}

/**
 * Seconds a call with a voicemail to drop stays open after its message: Twilio's default
 * MachineDetectionTimeout, so the detection's answer always finds the call live.
 */
export const VOICEMAIL_WAIT_SECONDS = 30;

/**
 * The TwiML of a call we place, whether it goes inline with the call or is served by the voice
 * webhook because it is too long to go inline. A call with no content hangs up.
 */
export function placedCallTwiml(content: PlacedCallContent): string {
  if (content.twiml) return content.twiml;
  if (!content.message && !content.audioUrl) return hangupTwiml();
  const response = voiceResponse();
  const options = { voice: content.voice ?? undefined, language: content.language ?? undefined };
  if (content.message) appendSay(response, content.message, options);
  if (content.audioUrl) response.play(content.audioUrl);
  // with asynchronous detection the message plays at once, over a machine's greeting too: the
  // call must still be live when the beep is heard, or there is nothing left to leave the voicemail on
  if (content.voicemailMessage) response.pause({ length: VOICEMAIL_WAIT_SECONDS });
  return response.toString();
}
