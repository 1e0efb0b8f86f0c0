import { INTENT_STATUSES, isIntentStatus } from '../common/intent-status';
import { sqlList, sqlLookup } from '../db/sql-literals';
import { CallStatus, TERMINAL_CALL_STATUSES, isTerminalCallStatus } from '../twilio/twilio.types';
import type { CallRecordStatus } from './call-record.entity';

const CALL_RANK: Record<CallStatus, number> = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  'in-progress': 3,
  completed: 4,
  busy: 4,
  'no-answer': 4,
  failed: 4,
  canceled: 4,
};

/** Where a status stands in a call's lifecycle; an unknown one comes last. */
export function callStatusRank(status: string): number {
  return (CALL_RANK as Record<string, number>)[status] ?? Number.MAX_SAFE_INTEGER;
}

/** Whether a call may move from `current` to `next`; a terminal status is final, any Twilio status ends an intent. */
export function callStatusAdvances(current: CallRecordStatus, next: CallStatus): boolean {
  if (isIntentStatus(current)) return true;
  if (isTerminalCallStatus(current)) return false;
  return CALL_RANK[next] > CALL_RANK[current];
}

/**
 * callStatusAdvances as an SQL condition over two varchar expressions, for the statement that
 * applies a status (the same rule where the row is locked; a spec checks they agree on every pair).
 */
export function callStatusAdvancesSql(current: string, next: string): string {
  return (
    `(${current} IN ${sqlList(INTENT_STATUSES)} OR ` +
    `(${current} NOT IN ${sqlList(TERMINAL_CALL_STATUSES)} AND ${sqlLookup(next, CALL_RANK)} > ${sqlLookup(current, CALL_RANK)}))`
  );
}
