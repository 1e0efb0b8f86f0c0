import { Injectable } from '@nestjs/common';
import { appLogger } from '../common/logger';
import { TwilioGatewayError, twilioMayHaveActed } from '../twilio/twilio.errors';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { CallKey, CallRecordRepository, TransferOutcome } from './call-record.repository';
import { twimlEndOf } from './call-report';
import { transferEndedTwiml, voicemailDropTwiml, whisperTwiml } from './call-control.twiml';

export type { CallKey, TransferOutcome } from './call-record.repository';

/** AnsweredBy values of detection that waited for the end of a machine's greeting: the moment to speak. */
const MACHINE_GREETING_ENDED = ['machine_end_beep', 'machine_end_silence', 'machine_end_other'];

/**
 * What Twilio reports about the control of a live call (answering-machine detection, a transfer's
 * dial), for the webhooks module: stored once on the call, and acted on once however often Twilio repeats it.
 */
@Injectable()
export class CallControlService {
  constructor(
    private readonly twilio: TwilioGateway,
    private readonly calls: CallRecordRepository,
  ) {}

  /** The TwiML the transfer target hears before it is connected: the transfer's whisper, in the call's voice. */
  async whisperTwiml(recordId: string | null): Promise<string> {
    const record = recordId ? await this.calls.findById(recordId) : null;
    return whisperTwiml(record?.transferWhisper ?? null, { voice: record?.voice ?? undefined, language: record?.language ?? undefined });
  }

  /** The transfer's dial ended: its outcome is stored (once), and the call, whose part is over, hangs up. */
  async transferEnded(key: CallKey, outcome: TransferOutcome): Promise<string> {
    await this.calls.recordTransferOutcome(key, outcome, new Date());
    return transferEndedTwiml();
  }

  /**
   * Answering-machine detection's result: stored as answered_by; at the end of a machine's greeting
   * the call's voicemail message is spoken and the call hangs up, once. A person is left to the
   * call's own TwiML. Throws when Twilio could not be told (Twilio retries the callback).
   */
  async machineDetected(key: CallKey, callSid: string, answeredBy: string): Promise<void> {
    if ('id' in key) await this.calls.attachSid(key.id, callSid);
    const record = await this.calls.recordAnsweredBy(key, answeredBy);
    if (!record?.voicemailMessage || record.voicemailLeftAt || !MACHINE_GREETING_ENDED.includes(answeredBy)) return;
    const at = new Date();
    if (!(await this.calls.claimVoicemailDrop(record.id, at))) return;
    const twiml = voicemailDropTwiml(record.voicemailMessage, { voice: record.voice ?? undefined, language: record.language ?? undefined });
    try {
      await this.twilio.redirectCall(callSid, twiml);
    } catch (error) {
      if (error instanceof TwilioGatewayError && error.kind === 'invalid_request') {
        // the call ended before the beep (the machine hung up): there is nothing to leave the message on
        appLogger().event('info', 'voicemail_not_left', { call_sid: callSid, error: error.message });
        await this.calls.releaseVoicemailDrop(record.id, at);
        return;
      }
      if (!twilioMayHaveActed(error)) await this.calls.releaseVoicemailDrop(record.id, at).catch(() => undefined);
      throw error;
    }
    await this.calls.setTwimlEnd(callSid, twimlEndOf(twiml)).catch((error: unknown) =>
      appLogger().event('warn', 'call_twiml_end_not_stored', {
        call_sid: callSid,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    await this.calls.recordVoicemailLeft(callSid, at).catch((error: unknown) =>
      appLogger().event('warn', 'call_timeline_not_stored', {
        call_sid: callSid,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }
}
