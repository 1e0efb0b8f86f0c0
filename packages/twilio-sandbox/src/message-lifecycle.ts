import type { CallbackSender } from './callback-sender';
import { TERMINAL_MESSAGE_STATUSES, type Pricing, type SandboxMessage, type SandboxState, type MessageStatus } from './sandbox-state';
import type { Scheduler } from './scheduler';
import { API_VERSION } from './wire';

export interface MessageContext {
  state: SandboxState;
  scheduler: Scheduler;
  sender: CallbackSender;
  accountSid: string;
  pricing: Pricing;
}

const SENDING_TO_SENT = 1;
const SENT_TO_FINAL = 2;

const DELIVERY_ERRORS: Record<string, { status: MessageStatus; code: number; message: string }> = {
  '2222': { status: 'undelivered', code: 30003, message: 'Unreachable destination handset' },
  '3333': { status: 'failed', code: 30008, message: 'Unknown error' },
};

/** `YYMMDDhhmm`, the carrier's delivery-receipt timestamp. */
function rawDlrDoneDate(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(date.getUTCFullYear() % 100)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}`;
}

/** queued → sending → sent → delivered | undelivered, or sending → failed; one segment per second per sender. */
export class MessageLifecycle {
  private readonly senderFreeAt = new Map<string, number>();
  private readonly timers = new Set<number>();
  /** Each message's own virtual time, so its timestamps do not depend on timer lateness. */
  private readonly cursors = new Map<string, number>();

  constructor(private readonly ctx: MessageContext) {}

  send(message: SandboxMessage): void {
    const now = message.dateCreated.getTime();
    const slot = Math.max(now, this.senderFreeAt.get(message.from) ?? 0);
    this.senderFreeAt.set(message.from, slot + message.numSegments * 1000);
    this.cursors.set(message.sid, now);
    this.after(message, (slot - now) / 1000, () => this.sending(message));
  }

  reset(): void {
    for (const id of this.timers) this.ctx.scheduler.cancel(id);
    this.timers.clear();
    this.senderFreeAt.clear();
    this.cursors.clear();
  }

  private sending(message: SandboxMessage): void {
    this.setStatus(message, 'sending');
    const fault = DELIVERY_ERRORS[message.to.slice(-4)];
    if (fault?.status === 'failed') {
      this.after(message, SENDING_TO_SENT, () => this.finish(message, fault.status, fault.code, fault.message));
      return;
    }
    this.after(message, SENDING_TO_SENT, () => {
      message.dateSent = this.clock(message);
      this.setStatus(message, 'sent');
      this.emit(message);
      this.after(message, SENT_TO_FINAL, () =>
        fault ? this.finish(message, fault.status, fault.code, fault.message) : this.finish(message, 'delivered'),
      );
    });
  }

  /** A message still on its way when the sandbox stopped, read back from its state file: the carrier delivered it meanwhile. */
  deliverInterrupted(message: SandboxMessage): void {
    if (TERMINAL_MESSAGE_STATUSES.includes(message.status)) return;
    this.finish(message, 'delivered');
  }

  private finish(message: SandboxMessage, status: MessageStatus, code?: number, text?: string): void {
    this.setStatus(message, status);
    message.errorCode = code ?? null;
    message.errorMessage = text ?? null;
    const billable = status !== 'failed';
    message.price = billable ? message.numSegments * this.ctx.pricing.smsPerSegment : 0;
    if (billable) this.ctx.state.charge('sms', message.dateUpdated, 1, message.numSegments, message.price);
    this.emit(message);
  }

  /** An inbound SMS is billed like an outbound one, per segment. */
  chargeInbound(message: SandboxMessage): void {
    message.price = message.numSegments * this.ctx.pricing.smsPerSegment;
    this.ctx.state.charge('sms', message.dateCreated, 1, message.numSegments, message.price);
  }

  private setStatus(message: SandboxMessage, status: MessageStatus): void {
    message.status = status;
    message.dateUpdated = this.clock(message);
  }

  private emit(message: SandboxMessage): void {
    if (!message.statusCallback) return;
    const params: Record<string, string> = {
      AccountSid: this.ctx.accountSid,
      ApiVersion: API_VERSION,
      From: message.from,
      To: message.to,
      MessageSid: message.sid,
      SmsSid: message.sid,
      MessageStatus: message.status,
      SmsStatus: message.status,
    };
    if (message.errorCode !== null) params.ErrorCode = String(message.errorCode);
    if (message.status === 'delivered' || message.status === 'undelivered') {
      params.RawDlrDoneDate = rawDlrDoneDate(message.dateUpdated);
    }
    this.ctx.sender.dispatch({
      kind: 'message-status',
      resourceSid: message.sid,
      url: message.statusCallback,
      params,
    });
  }

  private clock(message: SandboxMessage): Date {
    return new Date(this.cursors.get(message.sid) ?? this.ctx.scheduler.now().getTime());
  }

  private after(message: SandboxMessage, seconds: number, fn: () => void): void {
    const due = this.clock(message).getTime() + seconds * 1000;
    const id = this.ctx.scheduler.after(seconds, () => {
      this.timers.delete(id);
      this.cursors.set(message.sid, due);
      fn();
    });
    this.timers.add(id);
  }
}
