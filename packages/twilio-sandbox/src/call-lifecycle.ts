import type { CallbackSender } from './callback-sender';
import { isMagic } from './magic-numbers';
import { isValidNumber, placeForAreaCode } from './phone-inventory';
import type { Pricing, SandboxCall, SandboxRecording, SandboxState, CallStatus } from './sandbox-state';
import { TERMINAL_CALL_STATUSES } from './sandbox-state';
import type { Scheduler } from './scheduler';
import { DEFAULT_TALK_SECONDS, nextTurn, partyOf, type CallParty } from './party-scripts';
import { executeVoiceTwiml, Interrupted, parseTwiml, type DialResult, type HeardTurn, type TwimlElement } from './twiml-executor';
import { API_VERSION, newSid, rfc2822 } from './wire';

export interface LifecycleContext {
  state: SandboxState;
  scheduler: Scheduler;
  sender: CallbackSender;
  accountSid: string;
  pricing: Pricing;
  /** How the sandbox names itself in RecordingUrl. */
  publicBaseUrl: () => string;
}

/** Virtual seconds between the steps of a call. */
const INITIATE_TO_RING = 1;
const RING_UNTIL_ANSWER = 4;
const RING_UNTIL_BUSY = 3;
const FAIL_AFTER = 1;
const HOLD_LIMIT = 4 * 3600;
/** Async AMD decision times (virtual seconds): a person's short hello, a machine's greeting start, its beep. */
const HUMAN_DETECTION_SECONDS = 2.5;
const MACHINE_START_SECONDS = 3;
export const MACHINE_GREETING_SECONDS = 8;

function positiveNumber(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}

type Outcome = 'busy' | 'no-answer' | 'failed' | 'machine' | 'hold' | 'human';

/** The contract's outcome rules, keyed on the destination's last four digits. */
export function callOutcome(to: string): Outcome {
  switch (to.slice(-4)) {
    case '1111':
      return 'busy';
    case '2222':
      return 'no-answer';
    case '3333':
      return 'failed';
    case '4444':
      return 'machine';
    case '5555':
      return 'hold';
    default:
      return 'human';
  }
}

/**
 * AnsweredBy for a call placed with MachineDetection: `Enable` answers as soon as it knows (a machine's
 * greeting has started), `DetectMessageEnd` waits for the greeting to end in a beep.
 */
function answeredBy(call: SandboxCall): string {
  if (callOutcome(call.to) !== 'machine') return 'human';
  return call.machineDetection === 'DetectMessageEnd' ? 'machine_end_beep' : 'machine_start';
}

/**
 * How long detection listens and what it concludes: a person after their short greeting; a machine
 * at the start of its greeting with Enable, at the beep with DetectMessageEnd; `unknown` at
 * MachineDetectionTimeout.
 */
function detection(call: SandboxCall): { seconds: number; result: string } {
  const machine = callOutcome(call.to) === 'machine';
  const endOfMessage = call.machineDetection === 'DetectMessageEnd';
  const seconds = machine ? (endOfMessage ? MACHINE_GREETING_SECONDS : MACHINE_START_SECONDS) : HUMAN_DETECTION_SECONDS;
  const limit = call.machineDetectionTimeout ?? 30;
  return seconds > limit ? { seconds: limit, result: 'unknown' } : { seconds, result: answeredBy(call) };
}

function geo(prefix: string, e164: string): Record<string, string> {
  const country = e164.startsWith('+1') ? 'US' : e164.startsWith('+44') ? 'GB' : '';
  const place = e164.startsWith('+1') ? placeForAreaCode(e164.slice(2, 5)) : null;
  const out: Record<string, string> = { [`${prefix}Country`]: country };
  if (place) {
    out[`${prefix}City`] = place.locality.toUpperCase();
    out[`${prefix}State`] = place.region;
    out[`${prefix}Zip`] = place.postalCode;
    if (place.region.length === 2 && ['BC', 'ON', 'QC'].includes(place.region)) out[`${prefix}Country`] = 'CA';
  }
  return out;
}

export class CallLifecycle {
  private nextDialAt = 0;
  private readonly timers = new Map<string, Set<number>>();
  private readonly answeredAt = new Map<string, Date>();
  /**
   * Each call's own virtual time: a step scheduled N seconds ahead happens exactly N seconds after the
   * previous one, however late the real timer fires, so timestamps and durations are deterministic.
   */
  private readonly cursors = new Map<string, number>();
  /** Bumped by each redirect: a run whose generation is old has been replaced. */
  private readonly generations = new Map<string, number>();
  /** Wakes a run that waits in virtual time (it then sees it was interrupted). */
  private readonly waking = new Map<string, () => void>();

  constructor(
    private readonly ctx: LifecycleContext,
    private readonly cps: number,
  ) {}

  /** Reserves the call's dial slot (calls per second) and sets its queue_time. */
  placeOutbound(call: SandboxCall): void {
    const now = call.dateCreated.getTime();
    const slot = Math.max(now, this.nextDialAt);
    this.nextDialAt = slot + 1000 / this.cps;
    call.queueTimeMs = slot - now;
    this.cursors.set(call.sid, now);
    this.after(call, (slot - now) / 1000, () => this.initiate(call));
  }

  /** An inbound call rings the owned number and asks its VoiceUrl what to do. */
  startInbound(call: SandboxCall): void {
    this.cursors.set(call.sid, this.ctx.scheduler.now().getTime());
    this.ctx.scheduler.track(this.answer(call));
  }

  reset(): void {
    for (const ids of this.timers.values()) for (const id of ids) this.ctx.scheduler.cancel(id);
    this.timers.clear();
    for (const wake of [...this.waking.values()]) wake();
    this.waking.clear();
    this.generations.clear();
    this.answeredAt.clear();
    this.cursors.clear();
    this.nextDialAt = 0;
  }

  /**
   * A call still open when the sandbox stopped, read back from its state file: the line dropped
   * with the stop, so an answered call completes after the talk time it had, any other is canceled.
   */
  endInterrupted(call: SandboxCall): void {
    if (TERMINAL_CALL_STATUSES.includes(call.status)) return;
    if (call.status !== 'in-progress' || !call.startTime) return this.end(call, 'canceled', 487);
    this.answeredAt.set(call.sid, call.startTime);
    const talked = Math.max(0, Math.round((call.dateUpdated.getTime() - call.startTime.getTime()) / 1000));
    this.end(call, 'completed', 200, talked);
  }

  /** Status=completed|canceled from the API. */
  hangUp(call: SandboxCall, requested: 'completed' | 'canceled'): void {
    if (TERMINAL_CALL_STATUSES.includes(call.status)) return;
    this.cursors.set(call.sid, this.ctx.scheduler.now().getTime());
    if (call.status === 'in-progress') {
      if (requested === 'completed') this.end(call, 'completed', 200);
      return;
    }
    this.end(call, 'canceled', 487);
  }

  /** Url/Twiml update: an answered call drops what it was doing and runs the new document. */
  redirect(call: SandboxCall): void {
    if (call.status !== 'in-progress') return;
    this.generations.set(call.sid, this.generation(call) + 1);
    this.clearTimers(call);
    this.cursors.set(call.sid, this.ctx.scheduler.now().getTime());
    this.ctx.scheduler.track(this.runDocument(call, this.elapsedTalk(call)));
  }

  params(call: SandboxCall): Record<string, string> {
    return {
      AccountSid: this.ctx.accountSid,
      ApiVersion: API_VERSION,
      CallSid: call.sid,
      CallStatus: call.status,
      Called: call.to,
      Caller: call.from,
      Direction: call.direction,
      From: call.from,
      To: call.to,
      ...geo('From', call.from),
      ...geo('To', call.to),
      ...geo('Called', call.to),
      ...geo('Caller', call.from),
      ...(call.answeredBy ? { AnsweredBy: call.answeredBy } : {}),
      ...(call.parentCallSid ? { ParentCallSid: call.parentCallSid } : {}),
    };
  }

  private initiate(call: SandboxCall): void {
    this.setStatus(call, 'initiated');
    call.startTime = this.clock(call);
    this.emit(call, 'initiated');
    if (callOutcome(call.to) === 'failed') {
      this.after(call, FAIL_AFTER, () => this.end(call, 'failed', 404));
      return;
    }
    this.after(call, INITIATE_TO_RING, () => this.ring(call));
  }

  private ring(call: SandboxCall): void {
    this.setStatus(call, 'ringing');
    this.emit(call, 'ringing');
    const outcome = callOutcome(call.to);
    if (outcome === 'busy') {
      this.after(call, Math.min(RING_UNTIL_BUSY, call.timeout), () => this.end(call, 'busy', 486));
    } else if (outcome === 'no-answer' || call.timeout < RING_UNTIL_ANSWER) {
      this.after(call, call.timeout, () => this.end(call, 'no-answer', 487));
    } else {
      this.after(call, RING_UNTIL_ANSWER, () => this.answer(call));
    }
  }

  private async answer(call: SandboxCall): Promise<void> {
    this.answeredAt.set(call.sid, this.clock(call));
    if (call.direction !== 'inbound') {
      this.setStatus(call, 'in-progress');
      if (call.machineDetection && !call.asyncAmd) {
        // synchronous detection listens first (billed talk time): the TwiML is asked for with its result
        const { seconds, result } = detection(call);
        this.after(call, seconds, () => {
          call.answeredBy = result;
          this.emit(call, 'in-progress');
          return this.runDocument(call, seconds);
        });
        return;
      }
      this.emit(call, 'in-progress');
      if (call.machineDetection && call.asyncAmd) this.detectAsync(call);
    }
    await this.runDocument(call, 0);
  }

  private async runDocument(call: SandboxCall, alreadyTalked: number): Promise<void> {
    const sender = this.ctx.sender;
    const generation = this.generation(call);
    let document: string | null;
    if (call.url) {
      const result = await sender.request({
        kind: 'voice-url',
        resourceSid: call.sid,
        url: call.url,
        method: call.method,
        params: this.params(call),
        fallbackUrl: call.fallbackUrl,
        fallbackMethod: call.fallbackMethod,
      });
      document = result.ok ? result.body : null;
    } else {
      document = call.twiml ?? '';
    }
    if (this.isGone(call) || this.generation(call) !== generation) return;
    if (call.direction === 'inbound' && call.status === 'ringing') {
      this.setStatus(call, 'in-progress');
      call.startTime = this.clock(call);
    }
    if (document === null) {
      call.executed.push({ verb: 'Say', seconds: 4, text: 'An application error has occurred.', attributes: { code: '11200' } });
      this.talkThenEnd(call, alreadyTalked + 4, true);
      return;
    }
    const run = await executeVoiceTwiml(
      document,
      {
        fetch: async (kind, url, method, extra) => {
          const result = await sender.request({ kind, resourceSid: call.sid, url, method, params: { ...this.params(call), ...extra } });
          if (this.isGone(call) || this.generation(call) !== generation) throw new Interrupted();
          return result.ok ? result.body : null;
        },
        record: (element, startsAt, duration) => this.recordVerb(call, element, alreadyTalked + startsAt, duration),
        reach: (seconds) => this.reach(call, generation, alreadyTalked + seconds),
        listen: () => this.listen(call),
        dial: (element, seconds) => this.dial(call, generation, element, alreadyTalked + seconds),
      },
      { documentUrl: call.url, executed: call.executed },
    );
    if (run.interrupted || this.isGone(call) || this.generation(call) !== generation) return;
    this.talkThenEnd(call, alreadyTalked + run.seconds, run.hangup);
  }

  private generation(call: SandboxCall): number {
    return this.generations.get(call.sid) ?? 0;
  }

  /** Seconds since the call was answered, on its own virtual clock. */
  private talked(call: SandboxCall): number {
    const answered = this.answeredAt.get(call.sid);
    return answered ? (this.clock(call).getTime() - answered.getTime()) / 1000 : 0;
  }

  /** Lets virtual time pass for a run; throws Interrupted when the call left it meanwhile. */
  private sleep(call: SandboxCall, generation: number, seconds: number): Promise<void> {
    const left = () => this.isGone(call) || this.generation(call) !== generation;
    if (seconds <= 0) return left() ? Promise.reject(new Interrupted()) : Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const wake = () => reject(new Interrupted());
      this.waking.set(call.sid, wake);
      this.after(call, seconds, () => {
        if (this.waking.get(call.sid) === wake) this.waking.delete(call.sid);
        if (left()) reject(new Interrupted());
        else resolve();
      });
    });
  }

  /** Waits until the call is `seconds` past its answer. */
  private reach(call: SandboxCall, generation: number, seconds: number): Promise<void> {
    return this.sleep(call, generation, seconds - this.talked(call));
  }

  /** The number whose script plays the other party of this call. */
  private partyNumber(call: SandboxCall): string {
    return call.direction === 'inbound' ? call.from : call.to;
  }

  private partyOf(call: SandboxCall): CallParty | null {
    if (call.party === undefined) {
      const script = this.ctx.state.scripts.get(this.partyNumber(call));
      call.party = script ? partyOf(script) : null;
    }
    return call.party;
  }

  private listen(call: SandboxCall): HeardTurn {
    const party = this.partyOf(call);
    return party ? nextTurn(party) : null;
  }

  /**
   * Places the <Dial> leg: a child call (direction outbound-dial, ParentCallSid) that rings, is
   * answered or not by the outcome rules, hears the <Number url> whisper, and talks for the dialed
   * party's talk time (its script's talk_seconds); the parent waits in the Dial meanwhile.
   */
  private async dial(parent: SandboxCall, generation: number, element: TwimlElement, startsAt: number): Promise<DialResult> {
    const numberElement = element.children.find((c) => c.name === 'Number');
    const to = (numberElement?.text ?? element.text).trim();
    const timeout = positiveNumber(element.attributes.timeout, 30);
    const timeLimit = positiveNumber(element.attributes.timeLimit, HOLD_LIMIT);
    const now = this.clock(parent);
    const childEvents = (numberElement?.attributes.statusCallbackEvent ?? '').split(/[\s,]+/).filter(Boolean);
    const child: SandboxCall = {
      sid: newSid('CA'),
      to,
      from: element.attributes.callerId ?? parent.from,
      direction: 'outbound-dial',
      parentCallSid: parent.sid,
      status: 'queued',
      dateCreated: now,
      dateUpdated: now,
      startTime: null,
      endTime: null,
      duration: null,
      price: null,
      queueTimeMs: 0,
      answeredBy: null,
      phoneNumberSid: null,
      url: numberElement?.attributes.url ? new URL(numberElement.attributes.url, parent.url ?? undefined).toString() : null,
      method: (numberElement?.attributes.method ?? 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST',
      twiml: null,
      fallbackUrl: null,
      fallbackMethod: 'POST',
      statusCallback: numberElement?.attributes.statusCallback
        ? new URL(numberElement.attributes.statusCallback, parent.url ?? undefined).toString()
        : null,
      statusCallbackMethod: (numberElement?.attributes.statusCallbackMethod ?? 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST',
      statusCallbackEvents: childEvents,
      timeout,
      record: false,
      recordingStatusCallback: null,
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvents: ['completed'],
      machineDetection: null,
      sipResponseCode: null,
      sequenceNumber: 0,
      executed: [],
      recordingSids: [],
      talkSeconds: 0,
    };
    this.ctx.state.calls.set(child.sid, child);
    const follow = () => this.cursors.set(child.sid, this.clock(parent).getTime());
    const wait = async (seconds: number) => {
      await this.sleep(parent, generation, seconds);
      follow();
    };
    const outcome = (status: DialResult['outcome']['status'], duration: number | null) => ({
      outcome: { to, callSid: child.sid, status, duration },
      seconds: Math.max(0, this.talked(parent) - startsAt),
    });
    follow();
    try {
      this.setStatus(child, 'initiated');
      child.startTime = this.clock(child);
      this.emit(child, 'initiated');
      // a number Twilio cannot dial fails like the `3333` rule
      const rule = isMagic(to) || isValidNumber(to) ? callOutcome(to) : 'failed';
      if (rule === 'failed') {
        await wait(FAIL_AFTER);
        this.end(child, 'failed', 404);
        return outcome('failed', null);
      }
      this.setStatus(child, 'ringing');
      this.emit(child, 'ringing');
      if (rule === 'busy') {
        await wait(Math.min(RING_UNTIL_BUSY, timeout));
        this.end(child, 'busy', 486);
        return outcome('busy', null);
      }
      if (rule === 'no-answer' || timeout < RING_UNTIL_ANSWER) {
        await wait(timeout);
        this.end(child, 'no-answer', 487);
        return outcome('no-answer', null);
      }
      await wait(RING_UNTIL_ANSWER);
      this.setStatus(child, 'in-progress');
      this.answeredAt.set(child.sid, this.clock(child));
      this.emit(child, 'in-progress');
      let whisperSeconds = 0;
      if (child.url) {
        const whisper = await this.whisper(child, parent, generation);
        whisperSeconds = whisper.seconds;
        await wait(whisperSeconds);
        if (whisper.hangup) {
          this.end(child, 'completed', 200, Math.ceil(whisperSeconds));
          return outcome('no-answer', null);
        }
      }
      const talk = Math.min(this.partyOf(child)?.talkSeconds ?? this.scriptTalk(to), Math.max(0, timeLimit - whisperSeconds));
      // the caller's party may hang up first (its bridge_seconds): Twilio then requests the action of a call already completed
      const stays = this.partyOf(parent)?.bridgeSeconds;
      const callerLeaves = stays !== undefined && stays < talk;
      const bridged = callerLeaves ? stays : talk;
      await wait(bridged);
      const duration = Math.max(1, Math.ceil(whisperSeconds + bridged));
      this.end(child, 'completed', 200, duration);
      return { ...outcome('completed', duration), callerHungUp: callerLeaves };
    } catch (err) {
      // the caller left the Dial (hang-up, redirect): the dialed leg ends with it; a reset wiped both
      if (this.ctx.state.calls.get(child.sid) !== child) throw err;
      this.cursors.set(child.sid, this.ctx.scheduler.now().getTime());
      if (child.status === 'in-progress') this.end(child, 'completed', 200);
      else this.end(child, 'canceled', 487);
      throw err;
    }
  }

  private scriptTalk(number: string): number {
    return this.ctx.state.scripts.get(number)?.talkSeconds ?? DEFAULT_TALK_SECONDS;
  }

  /** The <Number url> document, run for the dialed party before the two are connected. */
  private async whisper(child: SandboxCall, parent: SandboxCall, generation: number) {
    const result = await this.ctx.sender.request({
      kind: 'dial-number-url',
      resourceSid: child.sid,
      url: child.url!,
      method: child.method,
      params: this.params(child),
    });
    if (this.isGone(parent) || this.generation(parent) !== generation) throw new Interrupted();
    if (!result.ok) return { seconds: 0, hangup: true };
    let verbs: TwimlElement[];
    try {
      verbs = parseTwiml(result.body);
    } catch {
      return { seconds: 0, hangup: true };
    }
    if (verbs.length === 0) return { seconds: 0, hangup: false };
    const run = await executeVoiceTwiml(
      result.body,
      {
        fetch: async (kind, url, method, extra) => {
          const answer = await this.ctx.sender.request({
            kind,
            resourceSid: child.sid,
            url,
            method,
            params: { ...this.params(child), ...extra },
          });
          if (this.isGone(parent) || this.generation(parent) !== generation) throw new Interrupted();
          return answer.ok ? answer.body : null;
        },
        record: (element, startsAt, duration) => this.recordVerb(child, element, startsAt, duration),
        listen: () => this.listen(child),
      },
      { documentUrl: child.url, executed: child.executed },
    );
    if (run.interrupted) throw new Interrupted();
    return { seconds: run.seconds, hangup: run.hangup };
  }

  /**
   * AsyncAmd: the TwiML already runs; the result is POSTed to AsyncAmdStatusCallback once detection
   * ends (a person: after their short greeting; a machine: at the start of its greeting with Enable,
   * at the beep with DetectMessageEnd), or `unknown` at MachineDetectionTimeout. Not sent for a call
   * that ended before.
   */
  private detectAsync(call: SandboxCall): void {
    const { seconds, result } = detection(call);
    const answered = this.clock(call).getTime();
    this.ctx.scheduler.after(seconds, () => {
      if (this.isGone(call)) return;
      call.answeredBy = result;
      if (!call.asyncAmdStatusCallback) return;
      this.ctx.sender.dispatch({
        kind: 'amd-status',
        resourceSid: call.sid,
        url: call.asyncAmdStatusCallback,
        method: call.asyncAmdStatusCallbackMethod ?? 'POST',
        params: {
          AccountSid: this.ctx.accountSid,
          CallSid: call.sid,
          AnsweredBy: result,
          MachineDetectionDuration: String(Math.round(seconds * 1000)),
          Timestamp: rfc2822(new Date(answered + seconds * 1000)) ?? '',
        },
      });
    });
  }

  private talkThenEnd(call: SandboxCall, totalSeconds: number, hungUp: boolean): void {
    call.talkSeconds = Math.max(1, Math.ceil(totalSeconds));
    const remaining = call.talkSeconds - this.elapsedTalk(call);
    if (callOutcome(call.to) === 'hold' && call.direction !== 'inbound' && !hungUp) {
      this.after(call, HOLD_LIMIT - this.elapsedTalk(call), () => this.end(call, 'completed', 200), true);
      return;
    }
    this.after(call, Math.max(0, remaining), () => this.end(call, 'completed', 200, call.talkSeconds));
  }

  private clock(call: SandboxCall): Date {
    return new Date(this.cursors.get(call.sid) ?? this.ctx.scheduler.now().getTime());
  }

  /** True once the call ended or was wiped by a reset while a webhook was in flight. */
  private isGone(call: SandboxCall): boolean {
    return TERMINAL_CALL_STATUSES.includes(call.status) || this.ctx.state.calls.get(call.sid) !== call;
  }

  private elapsedTalk(call: SandboxCall): number {
    const answered = this.answeredAt.get(call.sid);
    if (!answered) return 0;
    return Math.max(0, Math.round((this.clock(call).getTime() - answered.getTime()) / 1000));
  }

  private recordVerb(call: SandboxCall, element: TwimlElement, startsAt: number, duration: number) {
    const recording = this.newRecording(call, duration, 'RecordVerb', startsAt);
    const callback = element.attributes.recordingStatusCallback;
    if (callback) {
      const url = new URL(callback, call.url ?? undefined).toString();
      this.ctx.scheduler.after(Math.max(0, startsAt + duration - this.elapsedTalk(call)), () =>
        this.sendRecordingStatus(call, recording, url, element.attributes.recordingStatusCallbackMethod),
      );
    }
    return { recordingSid: recording.sid, recordingUrl: this.recordingUrl(recording) };
  }

  private newRecording(call: SandboxCall, duration: number, source: SandboxRecording['source'], offset: number) {
    const answered = this.answeredAt.get(call.sid) ?? this.clock(call);
    const recording: SandboxRecording = {
      sid: newSid('RE'),
      callSid: call.sid,
      duration,
      source,
      channels: 1,
      track: 'both',
      dateCreated: this.clock(call),
      startTime: new Date(answered.getTime() + offset * 1000),
    };
    this.ctx.state.recordings.set(recording.sid, recording);
    call.recordingSids.push(recording.sid);
    return recording;
  }

  recordingUrl(recording: SandboxRecording): string {
    return `${this.ctx.publicBaseUrl()}/2010-04-01/Accounts/${this.ctx.accountSid}/Recordings/${recording.sid}`;
  }

  private sendRecordingStatus(call: SandboxCall, recording: SandboxRecording, url: string, method?: string): void {
    this.ctx.sender.dispatch({
      kind: 'recording-status',
      resourceSid: recording.sid,
      url,
      method: method ?? 'POST',
      params: {
        AccountSid: this.ctx.accountSid,
        CallSid: call.sid,
        RecordingSid: recording.sid,
        RecordingUrl: this.recordingUrl(recording),
        RecordingStatus: 'completed',
        RecordingDuration: String(recording.duration),
        RecordingChannels: String(recording.channels),
        RecordingStartTime: rfc2822(recording.startTime) ?? '',
        RecordingSource: recording.source,
        RecordingTrack: recording.track,
        ErrorCode: '0',
      },
    });
  }

  private end(call: SandboxCall, status: CallStatus, sipResponseCode: number, plannedSeconds?: number): void {
    if (TERMINAL_CALL_STATUSES.includes(call.status)) return;
    const wasQueued = call.status === 'queued';
    this.clearTimers(call);
    const answered = this.answeredAt.get(call.sid);
    const now = this.clock(call);
    this.setStatus(call, status);
    call.sipResponseCode = sipResponseCode;
    if (status === 'completed') {
      call.duration = plannedSeconds ?? this.elapsedTalk(call);
      call.endTime = answered && plannedSeconds !== undefined ? new Date(answered.getTime() + plannedSeconds * 1000) : now;
      const minutes = Math.ceil(call.duration / 60);
      call.price = minutes * this.ctx.pricing.voicePerMinute;
      this.ctx.state.charge('calls', call.endTime, 1, minutes, call.price);
    } else {
      call.duration = null;
      call.endTime = wasQueued ? null : now;
      call.price = 0;
    }
    this.answeredAt.delete(call.sid);
    const extra: Record<string, string> = {};
    if (status === 'completed' && call.record) {
      const recording = this.newRecording(call, call.duration ?? 0, 'OutboundAPI', 0);
      extra.RecordingUrl = this.recordingUrl(recording);
      extra.RecordingSid = recording.sid;
      extra.RecordingDuration = String(recording.duration);
      if (call.recordingStatusCallback && call.recordingStatusCallbackEvents.includes('completed')) {
        this.sendRecordingStatus(call, recording, call.recordingStatusCallback, call.recordingStatusCallbackMethod);
      }
    }
    if (!wasQueued) this.emit(call, status, extra);
  }

  private setStatus(call: SandboxCall, status: CallStatus): void {
    call.status = status;
    call.dateUpdated = this.clock(call);
  }

  private emit(call: SandboxCall, status: CallStatus, extra: Record<string, string> = {}): void {
    if (!call.statusCallback) return;
    const terminal = TERMINAL_CALL_STATUSES.includes(status);
    const event = terminal ? 'completed' : status === 'in-progress' ? 'answered' : status;
    const events = call.statusCallbackEvents.length ? call.statusCallbackEvents : ['completed'];
    if (!events.includes(event)) return;
    const params: Record<string, string> = {
      ...this.params(call),
      CallStatus: status,
      Timestamp: rfc2822(this.clock(call)) ?? '',
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(call.sequenceNumber++),
      ...extra,
    };
    if (terminal) {
      params.CallDuration = String(call.duration ?? 0);
      params.SipResponseCode = String(call.sipResponseCode ?? 200);
      if (status === 'completed') params.Duration = String(Math.ceil((call.duration ?? 0) / 60));
    }
    this.ctx.sender.dispatch({
      kind: 'call-status',
      resourceSid: call.sid,
      url: call.statusCallback,
      method: call.statusCallbackMethod,
      params,
    });
  }

  private after(call: SandboxCall, seconds: number, fn: () => unknown, background = false): void {
    const ids = this.timers.get(call.sid) ?? new Set<number>();
    this.timers.set(call.sid, ids);
    const due = this.clock(call).getTime() + seconds * 1000;
    const id = this.ctx.scheduler.after(
      seconds,
      () => {
        ids.delete(id);
        this.cursors.set(call.sid, due);
        return fn();
      },
      { background },
    );
    ids.add(id);
  }

  private clearTimers(call: SandboxCall): void {
    const wake = this.waking.get(call.sid);
    if (wake) {
      this.waking.delete(call.sid);
      wake();
    }
    const ids = this.timers.get(call.sid);
    if (!ids) return;
    for (const id of ids) this.ctx.scheduler.cancel(id);
    ids.clear();
  }
}
