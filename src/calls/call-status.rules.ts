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

/**
 * What was done to a live call, kept in its timeline beside the statuses: a transfer Twilio took
 * (`transferring`) and how its dial ended, a voicemail handed to an answering machine.
 */
export const CALL_CONTROL_ENTRIES = ['transferring', 'transferred', 'transfer-failed', 'voicemail-left'] as const;
export type CallControlEntry = (typeof CALL_CONTROL_ENTRIES)[number];

/**
 * Where a status stands in a call's lifecycle (what was done to the live call after `in-progress`,
 * before the end: their times come from our clock, Twilio's statuses from Twilio's); an unknown one comes last.
 */
export function callStatusRank(status: string): number {
  if ((CALL_CONTROL_ENTRIES as readonly string[]).includes(status)) return CALL_RANK['in-progress'] + 0.5;
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
