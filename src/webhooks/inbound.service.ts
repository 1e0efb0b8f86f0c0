import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CallRecordEntity } from '../records/call-record.entity';
import { CallRecordRepository } from '../records/call-record.repository';
import { messagingResponse, playTwiml, sayTwiml, voiceResponse } from '../twilio/twiml';
import { TwilioParams, inboundCallEvent, inboundSmsEvent, param, smsKeyword } from './twilio-params';
import { WebhookInboxService } from './webhook-inbox.service';

type SayAttributes = Parameters<ReturnType<typeof voiceResponse>['say']>[0];

/** How long a TwiML fetch for a call we placed waits for the call's record (the fetch can beat the insert). */
export const TWIML_WAIT_MS = 3000;
const TWIML_POLL_MS = 100;

/** Answers Twilio's voice and messaging webhooks with TwiML. */
@Injectable()
export class InboundService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly inbox: WebhookInboxService,
    private readonly calls: CallRecordRepository,
  ) {}

  /** An inbound call gets the greeting and the configured action; a call we placed gets its own TwiML. */
  async answerCall(params: TwilioParams, idempotencyToken: string | null): Promise<string> {
    const classified = inboundCallEvent(params);
    if (!classified) return hangupTwiml();
    const event = await this.inbox.keep({ ...classified, idempotencyToken, payload: params });
    if (event) await this.inbox.apply(event);
    else if (classified.kind === 'inbound_call' && !(await this.calls.findBySid(classified.sid))) {
      // a retry of a request whose first attempt is still being stored or failed: store it now
      await this.inbox.applyPending(classified.sid);
    }
    // <Record> without its own action would fetch this URL again: the recording is done, hang up
    if (param(params, 'RecordingSid') || param(params, 'RecordingUrl')) return hangupTwiml();
    if (classified.kind === 'inbound_call') return this.greetingTwiml();
    const record = await this.waitForCall(classified.sid);
    return record ? storedTwiml(record) : hangupTwiml();
  }

  /** Stores the message once; STOP/START/HELP and the optional auto-reply answer only the first delivery. */
  async answerSms(params: TwilioParams, idempotencyToken: string | null): Promise<string> {
    const classified = inboundSmsEvent(params);
    const response = messagingResponse();
    if (!classified) return response.toString();
    const event = await this.inbox.keep({ ...classified, idempotencyToken, payload: params });
    if (!event) return response.toString();
    await this.inbox.apply(event);
    const keyword = smsKeyword(param(params, 'Body'));
    if (keyword?.action === 'help') response.message(this.config.webhooks.smsHelpText);
    else if (!keyword && this.config.webhooks.smsAutoReply) response.message(this.config.webhooks.smsAutoReply);
    return response.toString();
  }

  greetingTwiml(): string {
    const { webhooks } = this.config;
    const response = voiceResponse();
    if (webhooks.inboundAudioUrl) response.play(webhooks.inboundAudioUrl);
    else {
      response.say(
        { voice: webhooks.inboundVoice, language: webhooks.inboundLanguage } as SayAttributes,
        webhooks.inboundGreeting,
      );
    }
    const base = this.config.twilio.webhookBaseUrl;
    switch (webhooks.inboundAction) {
      case 'voicemail':
        response.record({
          maxLength: 120,
          playBeep: true,
          action: `${base}/call`,
          recordingStatusCallback: `${base}/status`,
          recordingStatusCallbackMethod: 'POST',
        });
        break;
      case 'forward':
        response.dial().number(webhooks.forwardTo ?? '');
        break;
      case 'hangup':
        response.hangup();
        break;
    }
    return response.toString();
  }

  private async waitForCall(sid: string): Promise<CallRecordEntity | null> {
    const deadline = Date.now() + TWIML_WAIT_MS;
    for (;;) {
      const record = await this.calls.findBySid(sid);
      if (record || Date.now() >= deadline) return record;
      await new Promise((resolve) => setTimeout(resolve, TWIML_POLL_MS));
    }
  }
}

export function hangupTwiml(): string {
  const response = voiceResponse();
  response.hangup();
  return response.toString();
}

/** The TwiML a call we placed was created with: its stored document, or rebuilt from message/audio. */
export function storedTwiml(record: Pick<CallRecordEntity, 'twiml' | 'message' | 'audioUrl' | 'voice' | 'language'>): string {
  if (record.twiml) return record.twiml;
  const options = { voice: record.voice ?? undefined, language: record.language ?? undefined };
  if (record.message && record.audioUrl) {
    const response = voiceResponse();
    response.say({ voice: options.voice, language: options.language } as SayAttributes, record.message);
    response.play(record.audioUrl);
    return response.toString();
  }
  if (record.message) return sayTwiml(record.message, options);
  if (record.audioUrl) return playTwiml(record.audioUrl);
  return hangupTwiml();
}
