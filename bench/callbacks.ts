import twilio from 'twilio';
import type { PreparedRequest } from './load';
import type { Queryable } from './seed';

const STATUSES = ['ringing', 'in-progress', 'completed'] as const;

/**
 * `count` signed status callbacks for existing calls, as Twilio sends them: `sids` in turn, each
 * round one SequenceNumber higher than anything stored yet (so every callback is news), signed
 * with the auth token over the public webhook URL the receiver is configured with.
 */
export function signedCallbacks(
  options: { authToken: string; accountSid: string; signedUrl: string; sids: string[]; firstSequence: number },
  count: number,
): PreparedRequest[] {
  const requests: PreparedRequest[] = [];
  for (let n = 0; n < count; n++) {
    const round = Math.floor(n / options.sids.length);
    const sid = options.sids[n % options.sids.length];
    const status = STATUSES[Math.min(round, STATUSES.length - 1)];
    const params: Record<string, string> = {
      AccountSid: options.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: sid,
      CallStatus: status,
      CallbackSource: 'call-progress-events',
      Called: '+14155550100',
      Caller: '+14155550199',
      Direction: 'outbound-api',
      From: '+14155550199',
      SequenceNumber: String(options.firstSequence + round),
      Timestamp: new Date().toUTCString(),
      To: '+14155550100',
      ...(status === 'completed' ? { CallDuration: '42', Duration: '1' } : {}),
    };
    requests.push({
      body: new URLSearchParams(params).toString(),
      headers: { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(options.authToken, options.signedUrl, params) },
    });
  }
  return requests;
}

/** Call sids to send callbacks for, and a SequenceNumber above every one stored. */
export async function callbackTargets(db: Queryable, howMany: number): Promise<{ sids: string[]; firstSequence: number }> {
  const sids = rows<{ sid: string }>(await db.query('SELECT sid FROM call_records ORDER BY sid LIMIT $1', [howMany])).map((r) => r.sid);
  const [max] = rows<{ max: number | null }>(await db.query('SELECT max(status_sequence)::int AS max FROM call_records'));
  if (sids.length === 0) throw new Error('no calls stored: run `npm run bench:seed` first');
  return { sids, firstSequence: (max?.max ?? 0) + 1 };
}

/** pg answers `{ rows }`, and so does PGlite. */
export function rows<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
