import { isIntentStatus } from '../common/intent-status';
import { MessageStatus, isTerminalMessageStatus } from '../twilio/twilio.types';
import type { MessageRecordStatus } from './message-record.entity';

const MESSAGE_RANK: Record<MessageStatus, number> = {
  accepted: 0,
  scheduled: 0,
  queued: 1,
  sending: 2,
  sent: 3,
  receiving: 3,
  failed: 4,
  undelivered: 4,
  delivered: 4,
  received: 4,
  canceled: 4,
  read: 5,
};

/** Where a status stands in a message's lifecycle; an unknown one comes last. */
export function messageStatusRank(status: string): number {
  return (MESSAGE_RANK as Record<string, number>)[status] ?? Number.MAX_SAFE_INTEGER;
}

/** Whether a message may move from `current` to `next`; only `read` may follow `delivered`. */
export function messageStatusAdvances(current: MessageRecordStatus, next: MessageStatus): boolean {
  if (isIntentStatus(current)) return true;
  if (current === next) return false;
  if (isTerminalMessageStatus(current)) return current === 'delivered' && next === 'read';
  return MESSAGE_RANK[next] > MESSAGE_RANK[current];
}
