import { twilioCallbackUrl, type TwilioCallbackTarget } from '../common/twilio-callback-url';
import { voiceResponse } from '../twilio/twiml';
import type { Assistant } from './assistants.service';

type VoiceResponse = ReturnType<typeof voiceResponse>;
type SayAttributes = Parameters<VoiceResponse['say']>[0];
type GatherAttributes = NonNullable<Parameters<VoiceResponse['gather']>[0]>;

/** What the call does next, in order: speak and/or play, then one of listen, transfer, send digits, hang up. */
export interface ConversationStep {
  say?: string | null;
  /** A voice for `say` other than the assistant's. */
  voice?: string | null;
  play?: string | null;
  then:
    | { kind: 'listen'; actionUrl: string }
    | { kind: 'transfer'; to: string; callerId?: string | null; actionUrl?: string | null }
    | { kind: 'digits'; digits: string; actionUrl: string }
    | { kind: 'hangup' };
}

/** The `<Gather>` that listens for the caller's next turn, with the assistant's speech settings. */
function gatherAttributes(assistant: Assistant, actionUrl: string): GatherAttributes {
  return {
    input: ['speech', 'dtmf'],
    action: actionUrl,
    method: 'POST',
    // no input is a turn too: Twilio calls the action with an empty result instead of running the next verb
    actionOnEmptyResult: true,
    timeout: assistant.inputTimeoutSeconds,
    speechTimeout: assistant.speechTimeout,
    language: assistant.language as GatherAttributes['language'],
    profanityFilter: assistant.profanityFilter,
    ...(assistant.speechHints.length ? { hints: assistant.speechHints.join(',') } : {}),
    ...(assistant.speechModel ? { speechModel: assistant.speechModel } : {}),
  };
}

/** The TwiML of one conversation step, built with the twilio SDK's VoiceResponse. */
export function conversationTwiml(assistant: Assistant, step: ConversationStep): string {
  const response = voiceResponse();
  if (step.say) response.say({ voice: step.voice ?? assistant.voice, language: assistant.language } as SayAttributes, step.say);
  if (step.play) response.play(step.play);
  const { then } = step;
  switch (then.kind) {
    case 'listen':
      response.gather(gatherAttributes(assistant, then.actionUrl));
      break;
    case 'digits':
      response.play({ digits: then.digits });
      response.gather(gatherAttributes(assistant, then.actionUrl));
      break;
    case 'transfer':
      response
        .dial({
          ...(then.actionUrl ? { action: then.actionUrl, method: 'POST' } : {}),
          ...(then.callerId ? { callerId: then.callerId } : {}),
        })
        .number(then.to);
      break;
    case 'hangup':
      response.hangup();
      break;
  }
  return response.toString();
}

/** Where Twilio posts the result of the conversation's `step`-th `<Gather>` (the webhook route `/gather`). */
export function gatherActionUrl(target: TwilioCallbackTarget, step: number): string {
  return twilioCallbackUrl(target, '/gather', { step: String(step) });
}
