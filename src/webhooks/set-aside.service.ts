import { Injectable } from '@nestjs/common';
import { CallRecordsService } from '../calls/call-records.service';
import { MessageRecordsService } from '../sms/message-records.service';
import { WebhookEventRepository } from './webhook-event.repository';

/** The oldest thing set aside, with why. */
export interface SetAsideItem {
  resource: 'inbox_event' | 'call' | 'message';
  /** The event's id, or the call's or message's sid. */
  id: string;
  sid: string;
  reason: string;
  setAsideAt: Date;
}

/** What was set aside after failing too often, as stored (all instances). */
export interface SetAsideCounts {
  inboxEvents: number;
  calls: number;
  messages: number;
  oldest: SetAsideItem | null;
}

/** Reads what the inbox and reconciliation set aside, for health and metrics. */
@Injectable()
export class SetAsideService {
  constructor(
    private readonly events: WebhookEventRepository,
    private readonly calls: CallRecordsService,
    private readonly messages: MessageRecordsService,
  ) {}

  async counts(): Promise<SetAsideCounts> {
    const events = await this.events.setAside();
    const calls = await this.calls.setAsideByReconcile();
    const messages = await this.messages.setAsideByReconcile();
    const candidates: SetAsideItem[] = [];
    if (events.oldest?.setAsideAt) {
      const e = events.oldest;
      candidates.push({ resource: 'inbox_event', id: e.id, sid: e.sid, reason: e.lastError ?? '', setAsideAt: e.setAsideAt! });
    }
    if (calls.oldest) candidates.push({ resource: 'call', id: calls.oldest.sid, ...calls.oldest });
    if (messages.oldest) candidates.push({ resource: 'message', id: messages.oldest.sid, ...messages.oldest });
    candidates.sort((a, b) => a.setAsideAt.getTime() - b.setAsideAt.getTime());
    return { inboxEvents: events.count, calls: calls.count, messages: messages.count, oldest: candidates[0] ?? null };
  }
}
