import { Inject, Injectable } from '@nestjs/common';
import { AssistantsService } from '../assistants/assistants.service';
import { conversationTwiml, gatherActionUrl } from '../assistants/conversation.twiml';
import { appLogger } from '../common/logger';
import { twilioCallbackUrl } from '../common/twilio-callback-url';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TwilioGatewayError, twilioMayHaveActed } from '../twilio/twilio.errors';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { CallKey, CallRecordRepository, TransferOutcome } from './call-record.repository';
import { TwimlEnd, twimlEndOf } from './call-report';
import { voicemailWaitTwiml } from './placed-call.twiml';
import { hangupTwiml } from '../twilio/twiml';
import { transferEndedTwiml, voicemailDropTwiml, whisperTwiml } from './call-control.twiml';
import { CallTurnsService } from './call-turns.service';
import type { CallDto } from './calls.dto';

export type { CallKey, TransferOutcome } from './call-record.repository';

/** Said to the caller of an assistant's call whose transfer nobody took, before the conversation goes on. */
export const TRANSFER_FAILED_SAY = "I'm sorry, nobody could take your call just now. How else can I help?";

/** AnsweredBy values of detection that waited for the end of a machine's greeting: the moment to speak. */
const MACHINE_GREETING_ENDED = ['machine_end_beep', 'machine_end_silence', 'machine_end_other'];
/** DialCallStatus values of a dial nobody took while the caller was still on the line. */
const DIAL_NOT_TAKEN = ['busy', 'no-answer', 'failed'];

/**
 * Who ends a call once a Dial of ours ended (see CallRecordEntity.twimlEndsAs): the call's own party
 * left the bridge (Twilio requests the action of a call already over), the dialed party did (we
 * hang up after it), or nobody took the dial (what runs next decides; a bare hang-up is ours).
 */
function dialEnd(outcome: TransferOutcome): TwimlEnd {
  if (outcome.callEnded) return 'remote';
  return outcome.status === 'completed' || outcome.status === 'answered' ? 'target' : 'api';
}

/** The `<Dial>` of a transfer an assistant's agent asked for. */
export interface AgentTransferDial {
  callerId: string;
  /** The Dial action: where Twilio reports how the dial ended. */
  actionUrl: string;
}

/**
 * What Twilio reports about the control of a live call (answering-machine detection, a transfer's
 * dial), for the webhooks module: stored once on the call, and acted on once however often Twilio repeats it.
 */
@Injectable()
export class CallControlService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly twilio: TwilioGateway,
    private readonly calls: CallRecordRepository,
    private readonly assistants: AssistantsService,
    private readonly turns: CallTurnsService,
  ) {}

  /** The TwiML the transfer target hears before it is connected: the transfer's whisper, in the call's voice. */
  async whisperTwiml(recordId: string | null): Promise<string> {
    const record = recordId ? await this.calls.findById(recordId) : null;
    return whisperTwiml(record?.transferWhisper ?? null, { voice: record?.voice ?? undefined, language: record?.language ?? undefined });
  }

  /**
   * A transfer an assistant's agent asked for, recorded on the call like one asked through the API
   * (the timeline says `transferring`), so that the Dial action stores how it ended.
   */
  async agentTransfer(call: CallDto, to: string, assistantId: string): Promise<AgentTransferDial> {
    const callerId = call.direction === 'inbound' ? call.to : call.from;
    const at = new Date();
    const by = `assistant:${assistantId}`;
    if (await this.calls.recordTransferRequest(call.id, { to, whisper: null, callerId, by, at })) {
      if (call.sid) await this.calls.recordTransferring(call.sid, at);
    }
    return { callerId, actionUrl: twilioCallbackUrl(this.config.twilio, '/transfer', { record_id: call.id }) };
  }

  /**
   * The transfer's dial ended: its outcome is stored (once), with who ends the call from here on.
   * When the call had ended already, its party hung up during the dial (Twilio ignores any answer).
   * When nobody took the dial, an assistant's call goes back to its conversation (a short word, then
   * listening); any other call, whose own TwiML the transfer replaced, has nothing to go back to and
   * hangs up, as it does once the dialed party hung up on a connected transfer.
   */
  async transferEnded(key: CallKey, outcome: TransferOutcome): Promise<string> {
    const notTaken = !outcome.callEnded && DIAL_NOT_TAKEN.includes(outcome.status);
    // stored with the outcome, in the same statement; a call that goes back to its assistant notes its own below
    const stored = await this.calls.recordTransferOutcome(key, outcome, new Date(), dialEnd(outcome));
    if (!notTaken) return transferEndedTwiml();
    const record = stored ?? ('id' in key ? await this.calls.findById(key.id) : await this.calls.findBySid(key.sid));
    const assistant = record?.sid && record.assistantId ? await this.assistants.find(record.assistantId) : null;
    if (!record?.sid || !assistant) return transferEndedTwiml();
    const progress = await this.turns.progress(record.sid);
    const twiml = conversationTwiml(assistant, {
      say: TRANSFER_FAILED_SAY,
      then: { kind: 'listen', actionUrl: gatherActionUrl(this.config.twilio, progress.lastStep + 1) },
    });
    // a repeated Dial action gets the same answer without a second turn
    if (stored) await this.turns.append(record.sid, { role: 'assistant', text: TRANSFER_FAILED_SAY });
    // listening again: a call that ends now was ended by the other party, not by the transfer
    await this.calls.setTwimlEnd(record.sid, twimlEndOf(twiml));
    return twiml;
  }

  /**
   * The inbound greeting's forward ended (its Dial action): who ends the call from here on is noted
   * as for a transfer, and the call hangs up, as the greeting has nothing after its forward (the
   * caller hears the end of the call whether the forward was taken or not). Null when the call is
   * not stored yet: the action is kept and applied once it is.
   */
  async forwardEnded(callSid: string, outcome: TransferOutcome): Promise<string | null> {
    if (!(await this.calls.exists(callSid))) return null;
    await this.calls.setTwimlEnd(callSid, dialEnd(outcome));
    return transferEndedTwiml();
  }

  /** Whether a placed call waits on for its voicemail after its message (see voicemailWaitTwiml); an unknown call hangs up. */
  async voicemailWaitTwiml(callSid: string | null, waited: number): Promise<string> {
    const record = callSid ? await this.calls.findBySid(callSid) : null;
    if (!record?.voicemailMessage || record.voicemailLeftAt) return hangupTwiml();
    return voicemailWaitTwiml(this.config.twilio, waited, record.answeredBy);
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
