import { twilioCallbackUrl, type TwilioCallbackTarget } from '../common/twilio-callback-url';
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
 * The longest a call with a voicemail to drop stays open after its message: Twilio's default
 * MachineDetectionTimeout, after which the detection has answered in any case.
 */
export const VOICEMAIL_WAIT_SECONDS = 30;
/** Each wait for the detection's answer: the most silence a person hears after the message once it is known. */
export const VOICEMAIL_WAIT_STEP_SECONDS = 2;

/**
 * The TwiML of a call we place, whether it goes inline with the call or is served by the voice
 * webhook because it is too long to go inline. A call with no content hangs up. `webhooks` is where
 * Twilio asks whether a voicemail is still awaited; without it (only to tell how the document
 * ends) that wait is written as the hang-up it ends in.
 */
export function placedCallTwiml(content: PlacedCallContent, webhooks: TwilioCallbackTarget | null): string {
  if (content.twiml) return content.twiml;
  if (!content.message && !content.audioUrl) return hangupTwiml();
  const response = voiceResponse();
  const options = { voice: content.voice ?? undefined, language: content.language ?? undefined };
  if (content.message) appendSay(response, content.message, options);
  if (content.audioUrl) response.play(content.audioUrl);
  // with asynchronous detection the message plays at once, over a machine's greeting too: the call
  // must still be live when the beep is heard, so it waits for the detection's answer; a person,
  // once known, hears the call end rather than silence up to the detection's timeout
  if (content.voicemailMessage) {
    if (webhooks) response.redirect({ method: 'POST' }, voicemailWaitUrl(webhooks, 0));
    else response.hangup();
  }
  return response.toString();
}

/**
 * The answer to a call's `waited`-th question whether a voicemail is still awaited: hang up once
 * detection found no machine (a person, a fax, or it could not tell) or the wait reached the
 * detection's timeout; otherwise wait a step more (a machine's beep redirects the call to its
 * voicemail meanwhile).
 */
export function voicemailWaitTwiml(webhooks: TwilioCallbackTarget, waited: number, answeredBy: string | null): string {
  const machine = answeredBy === null || answeredBy.startsWith('machine');
  if (!machine || (waited + 1) * VOICEMAIL_WAIT_STEP_SECONDS > VOICEMAIL_WAIT_SECONDS) return hangupTwiml();
  const response = voiceResponse();
  response.pause({ length: VOICEMAIL_WAIT_STEP_SECONDS });
  response.redirect({ method: 'POST' }, voicemailWaitUrl(webhooks, waited + 1));
  return response.toString();
}

/** Where Twilio asks, after a placed call's message, whether the call waits on for its voicemail (the webhook route `/voicemail-wait`). */
function voicemailWaitUrl(webhooks: TwilioCallbackTarget, waited: number): string {
  return twilioCallbackUrl(webhooks, '/voicemail-wait', { waited: String(waited) });
}
