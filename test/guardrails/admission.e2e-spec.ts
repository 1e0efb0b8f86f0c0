import { DataSource, type EntityManager } from 'typeorm';
import { CallRecordsService } from '../../src/calls/call-records.service';
import type { InsertGate } from '../../src/db/gated-insert';
import { MessageRecordsService } from '../../src/sms/message-records.service';
import { GuardrailDayRepository } from '../../src/guardrails/guardrail-day.repository';
import { GuardrailsService, utcDay } from '../../src/guardrails/guardrails.service';
import { TestApp, startTestApp } from '../support/test-app';

/**
 * How an admission runs on the database: the work that stores the intent first, then the count,
 * committed together or not at all.
 */

/** A row of guardrail_days for a day long past: something a work stored, found again by its count of calls. */
const storeMarker = (day: string, calls: number) => (tx: EntityManager) =>
  tx.query('INSERT INTO guardrail_days (day, admitted_spend_units, admitted_calls) VALUES ($1, 0, $2)', [day, calls]);

describe('admission on the database', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ MAX_LIVE_CALLS: '0', SPENDING_DAILY_LIMIT: '100' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('counts a request in with what its work stored, and keeps nothing of the work of one the counters refuse', async () => {
    const days = t.app.get(GuardrailDayRepository);
    const today = utcDay(new Date());
    const before = await days.admittedSoFar(today);
    // a reading that left room for one call more: the second admission finds the counters grown past it
    const stale = { readAt: before, spendRoom: null, callRoom: 0n };

    const first = await days.admit(today, { spendUnits: 0n, calls: 1n }, stale, storeMarker('2000-01-01', 7));
    expect(first.admitted).toBe(true);
    const second = await days.admit(today, { spendUnits: 0n, calls: 1n }, stale, storeMarker('2000-01-02', 7));
    expect(second).toEqual({ admitted: false });

    expect(await days.admittedSoFar(today)).toEqual({ spendUnits: before.spendUnits, calls: before.calls + 1n });
    expect(await days.admittedSoFar('2000-01-01')).toEqual({ spendUnits: 0n, calls: 7n });
    expect(await days.admittedSoFar('2000-01-02')).toEqual({ spendUnits: 0n, calls: 0n });
  });

  it('in one statement: stores an intent with its count, and stores nothing when the counters refuse', async () => {
    const days = t.app.get(GuardrailDayRepository);
    const records = t.app.get(CallRecordsService);
    const today = utcDay(new Date());
    const before = await days.admittedSoFar(today);
    const stale = { readAt: before, spendRoom: null, callRoom: 0n };
    const intent = (agentName: string) => (gate: InsertGate) =>
      records.createIntent({ direction: 'outbound', fromNumber: '+14155550199', toNumber: '+14155550100', message: 'hi', agentName }, gate);

    const first = await days.admitWithStatement(today, { spendUnits: 0n, calls: 1n }, stale, intent('admitted-in-one'));
    expect(first).toMatchObject({ admitted: true, value: { status: 'initiating', sid: null, agentName: 'admitted-in-one' } });
    const second = await days.admitWithStatement(today, { spendUnits: 0n, calls: 1n }, stale, intent('refused-in-one'));
    expect(second).toEqual({ admitted: false });

    expect(await days.admittedSoFar(today)).toEqual({ spendUnits: before.spendUnits, calls: before.calls + 1n });
    const stored = await t.app
      .get(DataSource)
      .query<{ agent_name: string }[]>("SELECT agent_name FROM call_records WHERE agent_name LIKE '%-in-one' ORDER BY agent_name");
    expect(stored.map((row) => row.agent_name)).toEqual(['admitted-in-one']);
  });

  it('rolls the work back with the count when the work fails', async () => {
    const days = t.app.get(GuardrailDayRepository);
    const today = utcDay(new Date());
    const before = await days.admittedSoFar(today);
    const room = { readAt: before, spendRoom: 1_000n, callRoom: null };
    const failing = async (tx: EntityManager) => {
      await storeMarker('2000-01-03', 7)(tx);
      throw new Error('the intent could not be stored');
    };
    await expect(days.admit(today, { spendUnits: 500n, calls: 0n }, room, failing)).rejects.toThrow('the intent could not be stored');
    expect(await days.admittedSoFar(today)).toEqual(before);
    expect(await days.admittedSoFar('2000-01-03')).toEqual({ spendUnits: 0n, calls: 0n });
  });

  describe.skipIf(!process.env.DATABASE_URL)(
    `concurrent admissions (${process.env.DATABASE_URL ? 'Postgres' : 'needs DATABASE_URL: embedded PGlite has one connection'})`,
    () => {
      it('store their intents side by side and take turns only to be counted', async () => {
        const guardrails = t.app.get(GuardrailsService);
        const days = t.app.get(GuardrailDayRepository);
        const today = utcDay(new Date());
        const before = await days.admittedSoFar(today);
        const count = 4;
        let entered = 0;
        let allEntered!: () => void;
        const together = new Promise<void>((resolve) => (allEntered = resolve));
        // each work holds its transaction until every other work has started too: admissions that
        // queued for their whole transaction one after another would never get there
        const work = async (tx: EntityManager) => {
          await tx.query('SELECT 1');
          if (++entered === count) allEntered();
          let timer: NodeJS.Timeout | undefined;
          const alone = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`only ${entered} of ${count} admissions ran their work at once`)), 5_000);
          });
          try {
            await Promise.race([together, alone]);
          } finally {
            clearTimeout(timer);
          }
          return 'stored';
        };
        const outcomes = await Promise.all(Array.from({ length: count }, () => guardrails.admit({ kind: 'sms', segments: 1 }, work)));
        expect(outcomes).toEqual(Array(count).fill('stored'));
        const after = await days.admittedSoFar(today);
        expect(after.spendUnits - before.spendUnits).toBe(BigInt(count) * guardrails.estimateOf({ kind: 'sms', segments: 1 }));
      });

      it('in one statement each, count every one of many at once and store each intent', async () => {
        const guardrails = t.app.get(GuardrailsService);
        const days = t.app.get(GuardrailDayRepository);
        const messages = t.app.get(MessageRecordsService);
        const today = utcDay(new Date());
        const before = await days.admittedSoFar(today);
        const count = 20;
        const intents = await Promise.all(
          Array.from({ length: count }, (_, i) =>
            guardrails.admitStored({ kind: 'sms', segments: 1 }, (gate) =>
              messages.createIntent(
                {
                  direction: 'outbound',
                  fromNumber: '+14155550199',
                  toNumber: '+14155550100',
                  body: 'hi',
                  mediaUrls: [],
                  agentName: `many-${i}`,
                },
                gate,
              ),
            ),
          ),
        );
        expect(new Set(intents.map((intent) => intent.agentName)).size).toBe(count);
        const after = await days.admittedSoFar(today);
        expect(after.spendUnits - before.spendUnits).toBe(BigInt(count) * guardrails.estimateOf({ kind: 'sms', segments: 1 }));
      });
    },
  );
});
