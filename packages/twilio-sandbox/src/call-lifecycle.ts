import type { CallbackSender } from './callback-sender';
import { placeForAreaCode } from './phone-inventory';
import type { Pricing, SandboxCall, SandboxRecording, SandboxState, CallStatus } from './sandbox-state';
import { TERMINAL_CALL_STATUSES } from './sandbox-state';
import type { Scheduler } from './scheduler';
import { executeVoiceTwiml, type TwimlElement } from './twiml-executor';
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
    if (call.direction !== 'inbound') {
      this.setStatus(call, 'in-progress');
      if (call.machineDetection) call.answeredBy = answeredBy(call);
      this.emit(call, 'in-progress');
    }
    this.answeredAt.set(call.sid, this.clock(call));
    await this.runDocument(call, 0);
  }

  private async runDocument(call: SandboxCall, alreadyTalked: number): Promise<void> {
    const sender = this.ctx.sender;
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
    if (this.isGone(call)) return;
    if (call.direction === 'inbound' && call.status === 'ringing') {
      this.setStatus(call, 'in-progress');
      call.startTime = this.clock(call);
    }
    if (document === null) {
      call.executed.push({ verb: 'Say', seconds: 4, text: 'An application error has occurred.', attributes: { code: '11200' } });
      this.talkThenEnd(call, alreadyTalked + 4, true);
      return;
    }
    const run = await executeVoiceTwiml(document, {
      fetch: async (kind, url, method, extra) => {
        const result = await sender.request({
          kind,
          resourceSid: call.sid,
          url: new URL(url, call.url ?? undefined).toString(),
          method,
          params: { ...this.params(call), ...extra },
        });
        return result.ok ? result.body : null;
      },
      record: (element, startsAt, duration) => this.recordVerb(call, element, alreadyTalked + startsAt, duration),
    });
    if (this.isGone(call)) return;
    call.executed.push(...run.executed);
    this.talkThenEnd(call, alreadyTalked + run.seconds, run.hangup);
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
    const ids = this.timers.get(call.sid);
    if (!ids) return;
    for (const id of ids) this.ctx.scheduler.cancel(id);
    ids.clear();
  }
}
