import { Inject, Injectable } from '@nestjs/common';
import { Assistant, AssistantsService } from '../assistants/assistants.service';
import { ConversationStep, conversationTwiml, gatherActionUrl } from '../assistants/conversation.twiml';
import { CallControlService } from '../calls/call-control.service';
import type { TwimlEnd } from '../calls/call-report';
import { CallRecordsService } from '../calls/call-records.service';
import { CallTurn, CallTurnsService, ConversationProgress } from '../calls/call-turns.service';
import type { CallDto } from '../calls/calls.dto';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { OptOutsService } from '../sms/opt-outs.service';
import { SmsService } from '../sms/sms.service';
import { hangupTwiml } from '../twilio/twiml';
import { askAgent } from './agent-client';
import { AgentReply, parseAgentReply } from './agent-reply';
import { SmsConversationDto, SmsConversationQueryDto } from './conversations.dto';
import { SmsTurnRepository } from './sms-turn.repository';
import { renderTemplate, templateVariables } from '../common/template';

/** What a `<Gather>` heard, as Twilio posted it to the action URL. */
export interface GatherResult {
  callSid: string;
  /** The conversation step of the `<Gather>` (from its action URL). */
  step: number;
  speech: string | null;
  confidence: number | null;
  digits: string | null;
  twilioToken: string | null;
}

export const GOODBYE = 'Thank you for calling. Goodbye.';
export const AGENT_FALLBACK = "Sorry, I'm having a little trouble. Could you say that again?";
export const AGENT_GIVE_UP = "I'm sorry, I can't help right now. Please call again later. Goodbye.";
/** How many turns of an SMS conversation the agent is sent as its transcript. */
const SMS_TRANSCRIPT_LENGTH = 20;
/** How many of the latest messages between the two numbers are searched for the one just received. */
const SMS_MESSAGE_LOOKUP = 5;
/** Turns in GET conversations/sms without a limit. */
const SMS_TRANSCRIPT_PAGE = 100;

/** An inbound SMS to an assistant's number. */
export interface InboundSmsTurn {
  sid: string;
  from: string;
  to: string;
  body: string;
  assistantId: string;
}

/** How long a retried Gather request waits for the first attempt's answer. */
const RETRY_WAIT_STEP_MS = 100;

/**
 * The turn loop of an assistant's call: the opening (greeting or first message, then listening),
 * then for each Gather result: limits and end phrases, the agent asked once per Twilio request,
 * its answer turned into TwiML, every turn stored.
 */
@Injectable()
export class ConversationsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly assistants: AssistantsService,
    private readonly calls: CallRecordsService,
    private readonly turns: CallTurnsService,
    private readonly sms: SmsService,
    private readonly optOuts: OptOutsService,
    private readonly control: CallControlService,
    private readonly smsTurns: SmsTurnRepository,
  ) {}

  /**
   * An SMS to an assistant's number is a turn: stored, then sent to the agent with the conversation so
   * far, and its `say` stored as the assistant's turn and sent back as an SMS through the normal path
   * (stored, priced, opt-outs enforced). False when the assistant no longer exists (the caller then
   * answers as it would without one).
   */
  async answerSms(turn: InboundSmsTurn): Promise<boolean> {
    const assistant = await this.assistants.find(turn.assistantId);
    if (!assistant) return false;
    // someone who sent STOP gets no answer at all, the agent is not asked
    if (await this.optOuts.isOptedOut(turn.from)) return true;
    const conversation = { assistantId: assistant.id, ourNumber: turn.to, theirNumber: turn.from };
    const callerTurn = await this.smsTurns.append({ ...conversation, role: 'caller', text: turn.body, messageSid: turn.sid });
    // the same SMS handed over again: it was answered already
    if (!callerTurn) return true;
    const [history, turnNumber, thread] = await Promise.all([
      this.smsTurns.listOfConversation(turn.from, turn.to, SMS_TRANSCRIPT_LENGTH),
      this.smsTurns.countCallerTurns(turn.from, turn.to),
      this.sms.thread(turn.to, turn.from, SMS_MESSAGE_LOOKUP),
    ]);
    const body = JSON.stringify({
      type: 'conversation.turn',
      channel: 'sms',
      message: thread.find((m) => m.sid === turn.sid) ?? null,
      assistant_id: assistant.id,
      turn: turnNumber,
      input: { text: turn.body, speech: null, confidence: null, digits: null },
      transcript: history.map(({ role, text }) => ({ role, text })),
      metadata: { ...assistant.metadata },
    });
    const result = await askAgent({
      url: assistant.agentUrl,
      messageId: `sms_${turn.sid}`,
      body,
      secrets: this.assistants.signingSecrets(assistant),
      timeoutMs: this.config.conversations.agentTimeoutMs,
      allowPrivate: this.config.events.allowPrivateUrls,
    });
    const reply = result.ok ? parseAgentReply(result.json) : result.error;
    await this.smsTurns.recordAgent(callerTurn.id, result.latencyMs, typeof reply === 'string' ? reply : null);
    if (typeof reply === 'string') {
      appLogger().event('warn', 'agent_sms_turn_failed', { sid: turn.sid, error: reply, latency_ms: result.latencyMs });
      return true;
    }
    if (!reply.say) return true;
    // the answer joins the conversation before it is sent, so that the next text's agent sees it
    const answer = await this.smsTurns.append({ ...conversation, role: 'assistant', text: reply.say, messageSid: null });
    try {
      const { message } = await this.sms.sendSms({ to: turn.from, from: turn.to, message: reply.say }, `assistant:${assistant.id}`);
      if (answer) await this.smsTurns.setMessageSid(answer.id, message.sid);
    } catch (error) {
      if (answer) await this.smsTurns.remove(answer.id);
      appLogger().event('warn', 'agent_sms_reply_not_sent', {
        sid: turn.sid,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return true;
  }

  /** The transcript of an SMS conversation with an assistant. */
  async smsConversation(query: SmsConversationQueryDto): Promise<SmsConversationDto> {
    const turns = await this.smsTurns.listOfConversation(query.number, query.our_number ?? null, query.limit ?? SMS_TRANSCRIPT_PAGE);
    return {
      number: query.number,
      our_number: query.our_number ?? null,
      transcript: turns.map((t) => ({
        role: t.role,
        text: t.text,
        message_sid: t.messageSid,
        assistant_id: t.assistantId,
        our_number: t.ourNumber,
        agent_latency_ms: t.agentLatencyMs,
        at: t.createdAt,
      })),
    };
  }

  /**
   * The opening TwiML of a conversation: the inbound greeting or the outbound first message, then
   * listening. Null when the assistant no longer exists (the caller gets today's behaviour).
   */
  async open(callSid: string, assistantId: string, direction: 'inbound' | 'outbound', twilioToken: string | null): Promise<string | null> {
    const assistant = await this.assistants.find(assistantId);
    if (!assistant) return null;
    if (direction === 'inbound') await this.calls.setAssistant(callSid, assistantId);
    const say = direction === 'inbound' ? assistant.greeting : await this.firstMessageFor(callSid, assistant.firstMessage);
    const twiml = conversationTwiml(assistant, { say, then: { kind: 'listen', actionUrl: this.actionUrl(1) } });
    await this.calls.noteServedTwiml(callSid, twiml);
    // a retried request stores nothing twice: the opening is step 0
    if (say)
      await this.turns.appendStep(callSid, {
        step: 0,
        role: 'assistant',
        text: say,
        answerTwiml: twiml,
        twilioToken,
        answeredAt: new Date(),
      });
    return twiml;
  }

  /**
   * The outbound first message with its `{{key}}` placeholders filled from the call's metadata (a
   * campaign puts each recipient's variables there); a key the call does not carry is left out.
   */
  private async firstMessageFor(callSid: string, template: string | null): Promise<string | null> {
    if (!template) return template;
    const names = templateVariables(template);
    if (names.length === 0) return template;
    const metadata = (await this.calls.findCall({ sid: callSid }))?.metadata ?? {};
    const filled = renderTemplate(template, Object.fromEntries(names.map((name) => [name, metadata[name] ?? ''])));
    return typeof filled === 'string'
      ? filled
          .replace(/\s{2,}/g, ' ')
          .replace(/\s+([,.!?;:])/g, '$1')
          .trim()
      : template;
  }

  /** The TwiML answering one Gather result; the agent is asked at most once per step, whatever Twilio retries. */
  async answerGather(input: GatherResult): Promise<string> {
    // the caller's turn is stored first, in the statement that reads the call: one round trip
    const appended = await this.turns.appendStepInConversation(input.callSid, {
      step: input.step,
      role: 'caller',
      text: input.speech,
      confidence: input.confidence,
      digits: input.digits,
      twilioToken: input.twilioToken,
    });
    if (!appended) return hangupTwiml();
    const { call, stored } = appended;
    const assistant = call.assistant_id ? await this.assistants.forTurn(call.assistant_id) : null;
    if (!stored) return assistant ? this.answerOfRetry(assistant, input) : hangupTwiml();
    const { turn: callerTurn, progress, transcript } = stored;
    if (!assistant) {
      // the assistant was deleted during the call (or the call never had one): it ends, its answer kept for a retry
      const twiml = hangupTwiml();
      await this.turns.answer(callerTurn, { twiml, agentLatencyMs: null, agentError: null, end: 'api' }, null);
      return twiml;
    }
    const ending = this.endReason(assistant, call, progress, input);
    if (ending) {
      appLogger().event('info', 'conversation_ended', { call_sid: input.callSid, reason: ending });
      // a limit on the conversation ends it as Twilio's own time limit would; the others are our hang-up
      const endsAs = ending === 'silence_limit' || ending === 'max_duration' ? 'timeout' : 'api';
      return this.finish(callerTurn, assistant, { say: GOODBYE, then: { kind: 'hangup' } }, null, null, endsAs);
    }
    const body = JSON.stringify({
      type: 'conversation.turn',
      call,
      assistant_id: assistant.id,
      turn: progress.callerTurns,
      input: { speech: input.speech, confidence: input.confidence, digits: input.digits },
      transcript,
      metadata: { ...assistant.metadata, ...call.metadata },
    });
    const result = await askAgent({
      url: assistant.agentUrl,
      messageId: `turn_${input.callSid}_${input.step}`,
      body,
      secrets: this.assistants.signingSecrets(assistant),
      timeoutMs: this.config.conversations.agentTimeoutMs,
      allowPrivate: this.config.events.allowPrivateUrls,
    });
    const reply = result.ok ? parseAgentReply(result.json) : result.error;
    if (typeof reply === 'string') {
      appLogger().event('warn', 'agent_turn_failed', {
        call_sid: input.callSid,
        step: input.step,
        error: reply,
        latency_ms: result.latencyMs,
      });
      // one retry after a failure; a second failure in a row ends the call politely
      const step: ConversationStep =
        progress.trailingAgentFailures >= 1
          ? { say: AGENT_GIVE_UP, then: { kind: 'hangup' } }
          : { say: AGENT_FALLBACK, then: { kind: 'listen', actionUrl: this.actionUrl(input.step + 1) } };
      return this.finish(callerTurn, assistant, step, result.latencyMs, reply);
    }
    const lastTurn = progress.callerTurns >= assistant.maxTurns;
    const step = this.stepOf(assistant, reply, input.step + 1, lastTurn);
    if (step.then.kind === 'transfer') {
      // recorded like a transfer through the API: its dial's outcome is stored, and a dial nobody takes returns here
      const dial = await this.control.agentTransfer(call, step.then.to, assistant.id);
      step.then = { ...step.then, ...dial };
    }
    return this.finish(callerTurn, assistant, step, result.latencyMs, null);
  }

  /** The agent's answer as the next step: say/play first, then transfer, digits, hang-up, or listening again. */
  private stepOf(assistant: Assistant, reply: AgentReply, nextStep: number, lastTurn: boolean): ConversationStep {
    const spoken = { say: reply.say, voice: reply.voice, play: reply.play };
    const transferTo = reply.transfer === true ? assistant.transferNumber : reply.transfer;
    if (transferTo) return { ...spoken, then: { kind: 'transfer', to: transferTo, callerId: null } };
    if (reply.hangup) return { ...spoken, then: { kind: 'hangup' } };
    if (lastTurn) return { ...spoken, say: [reply.say, GOODBYE].filter(Boolean).join(' '), then: { kind: 'hangup' } };
    if (reply.digits) return { ...spoken, then: { kind: 'digits', digits: reply.digits, actionUrl: this.actionUrl(nextStep) } };
    return { ...spoken, then: { kind: 'listen', actionUrl: this.actionUrl(nextStep) } };
  }

  /** Why the conversation ends now without asking the agent, or null. */
  private endReason(assistant: Assistant, call: CallDto, progress: ConversationProgress, input: GatherResult): string | null {
    const silent = !input.speech && !input.digits;
    if (silent && progress.trailingSilences >= assistant.silenceLimit) return 'silence_limit';
    if (progress.callerTurns > assistant.maxTurns) return 'max_turns';
    const startedAt = call.start_time ?? progress.startedAt;
    if (startedAt && Date.now() - new Date(startedAt).getTime() >= assistant.maxDurationSeconds * 1000) return 'max_duration';
    if (input.speech && saysEndPhrase(input.speech, assistant.endPhrases)) return 'end_phrase';
    return null;
  }

  private async finish(
    callerTurn: CallTurn,
    assistant: Assistant,
    step: ConversationStep,
    agentLatencyMs: number | null,
    agentError: string | null,
    endsAs?: TwimlEnd,
  ): Promise<string> {
    const twiml = conversationTwiml(assistant, step);
    await this.turns.answer(
      callerTurn,
      { twiml, agentLatencyMs, agentError, end: endsAs },
      step.say ? { role: 'assistant', text: step.say } : null,
    );
    return twiml;
  }

  /**
   * A Twilio retry of a Gather result already stored: the first attempt's answer once it is there
   * (waiting for it at most the agent deadline); if that attempt died, a request to say it again.
   */
  private async answerOfRetry(assistant: Assistant, input: GatherResult): Promise<string> {
    const deadline = Date.now() + this.config.conversations.agentTimeoutMs + 1000;
    for (;;) {
      const stored = await this.turns.findStep(input.callSid, input.step);
      if (stored?.answerTwiml) return stored.answerTwiml;
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, RETRY_WAIT_STEP_MS));
    }
    return conversationTwiml(assistant, { say: AGENT_FALLBACK, then: { kind: 'listen', actionUrl: this.actionUrl(input.step + 1) } });
  }

  private actionUrl(step: number): string {
    return gatherActionUrl(this.config.twilio, step);
  }
}

/** Lowercase words without punctuation, for comparing what was said with the end phrases. */
function words(text: string): string {
  return ` ${text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .trim()} `;
}

/** The utterance contains one of the phrases as whole words (case and punctuation ignored). */
export function saysEndPhrase(speech: string, phrases: string[]): boolean {
  const said = words(speech);
  return phrases.some((phrase) => {
    const wanted = words(phrase);
    return wanted.trim() !== '' && said.includes(wanted);
  });
}
