import { hangupTwiml, playTwiml, sayTwiml, voiceResponse } from '../twilio/twiml';

/** What a placed call runs: its own TwiML document, or a message to speak and/or audio to play. */
export interface PlacedCallContent {
  twiml?: string | null;
  message?: string | null;
  audioUrl?: string | null;
  voice?: string | null;
  language?: string | null;
}

type SayAttributes = Parameters<ReturnType<typeof voiceResponse>['say']>[0];

/**
 * The TwiML of a call we place, whether it goes inline with the call or is served by the voice
 * webhook because it is too long to go inline. A call with no content hangs up.
 */
export function placedCallTwiml(content: PlacedCallContent): string {
  if (content.twiml) return content.twiml;
  const options = { voice: content.voice ?? undefined, language: content.language ?? undefined };
  if (content.message && content.audioUrl) {
    const response = voiceResponse();
    response.say(options as SayAttributes, content.message);
    response.play(content.audioUrl);
    return response.toString();
  }
  if (content.message) return sayTwiml(content.message, options);
  if (content.audioUrl) return playTwiml(content.audioUrl);
  return hangupTwiml();
}
