import { CallStatus, MessageStatus, isTerminalCallStatus, isTerminalMessageStatus } from '../twilio/twilio.types';

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

/** Whether a call may move from `current` to `next`; a terminal status is final. */
export function callStatusAdvances(current: CallStatus, next: CallStatus): boolean {
  if (isTerminalCallStatus(current)) return false;
  return CALL_RANK[next] > CALL_RANK[current];
}

/** Whether a message may move from `current` to `next`; only `read` may follow `delivered`. */
export function messageStatusAdvances(current: MessageStatus, next: MessageStatus): boolean {
  if (current === next) return false;
  if (isTerminalMessageStatus(current)) return current === 'delivered' && next === 'read';
  return MESSAGE_RANK[next] > MESSAGE_RANK[current];
}
