import { INTENT_STATUSES, isIntentStatus } from '../common/intent-status';
import { sqlList, sqlLookup } from '../db/sql-literals';
import { MessageStatus, TERMINAL_MESSAGE_STATUSES, isTerminalMessageStatus } from '../twilio/twilio.types';
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

/** messageStatusAdvances as an SQL condition over two varchar expressions (see callStatusAdvancesSql). */
export function messageStatusAdvancesSql(current: string, next: string): string {
  return (
    `(${current} IN ${sqlList(INTENT_STATUSES)} OR (${current} <> ${next} AND CASE WHEN ${current} IN ${sqlList(TERMINAL_MESSAGE_STATUSES)} ` +
    `THEN ${current} = 'delivered' AND ${next} = 'read' ELSE ${sqlLookup(next, MESSAGE_RANK)} > ${sqlLookup(current, MESSAGE_RANK)} END))`
  );
}
