import type { AppConfig } from '../config/app-config';
import { twilioCallbackUrl } from '../common/twilio-callback-url';
import { voiceResponse } from '../twilio/twiml';

/** The query of the voice URL the greeting redirects to after a voicemail nobody spoke into. */
export const VOICEMAIL_QUERY = 'voicemail';
export const EMPTY_VOICEMAIL = 'empty';

type SayAttributes = Parameters<ReturnType<typeof voiceResponse>['say']>[0];

/** What an inbound call to a number without an assistant hears: the configured greeting, then its action. */
export function greetingTwiml(config: Pick<AppConfig, 'webhooks' | 'twilio'>): string {
  const { webhooks } = config;
  const response = voiceResponse();
  if (webhooks.inboundAudioUrl) response.play(webhooks.inboundAudioUrl);
  else {
    response.say({ voice: webhooks.inboundVoice, language: webhooks.inboundLanguage } as SayAttributes, webhooks.inboundGreeting);
  }
  const base = config.twilio;
  switch (webhooks.inboundAction) {
    case 'voicemail':
      response.record({
        maxLength: 120,
        playBeep: true,
        action: twilioCallbackUrl(base, '/call'),
        recordingStatusCallback: twilioCallbackUrl(base, '/status'),
        recordingStatusCallbackMethod: 'POST',
      });
      // runs only when Twilio dropped an empty recording (its action is not requested then): we end the call
      response.redirect({ method: 'POST' }, twilioCallbackUrl(base, '/call', { [VOICEMAIL_QUERY]: EMPTY_VOICEMAIL }));
      break;
    case 'forward':
      // the action says how the bridge ended, so the report knows who ended the call
      response.dial({ action: twilioCallbackUrl(base, '/forward'), method: 'POST' }).number(webhooks.forwardTo ?? '');
      break;
    case 'hangup':
      response.hangup();
      break;
  }
  return response.toString();
}
