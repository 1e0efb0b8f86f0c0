import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Mutex, Semaphore } from 'async-mutex';
import type { EntityManager, Repository } from 'typeorm';
import type { InsertGate } from '../db/gated-insert';
import { GuardrailDayEntity } from './guardrail-day.entity';

/** What was admitted on a day so far. */
export interface AdmittedSoFar {
  spendUnits: bigint;
  calls: bigint;
}

/**
 * How much the day's counters may still grow beyond a reading before the request no longer fits:
 * `spendRoom`/`callRoom` null means that side is not limited.
 */
export interface AdmissionRoom {
  readAt: AdmittedSoFar;
  spendRoom: bigint | null;
  callRoom: bigint | null;
}

const READ_SQL = 'SELECT admitted_spend_units, admitted_calls FROM guardrail_days WHERE day = $1';

/**
 * Counts the request in, unless the counters grew past the room since the reading. A day without a
 * row yet is inserted as is: its counters were zero at the reading, so the caller checked it already.
 */
const ADMIT_SQL = `
INSERT INTO guardrail_days AS g (day, admitted_spend_units, admitted_calls) VALUES ($1, $2, $3)
ON CONFLICT (day) DO UPDATE
  SET admitted_spend_units = g.admitted_spend_units + EXCLUDED.admitted_spend_units,
      admitted_calls = g.admitted_calls + EXCLUDED.admitted_calls
  WHERE ($4::bigint IS NULL OR g.admitted_spend_units - $5::bigint <= $4::bigint)
    AND ($6::bigint IS NULL OR g.admitted_calls - $7::bigint <= $6::bigint)
RETURNING day`;

type AdmissionOutcome<T> = { admitted: true; value: T } | { admitted: false };

function admitParams(day: string, request: AdmittedSoFar, room: AdmissionRoom): unknown[] {
  return [
    day,
    String(request.spendUnits),
    String(request.calls),
    room.spendRoom === null ? null : String(room.spendRoom),
    String(room.readAt.spendUnits),
    room.callRoom === null ? null : String(room.callRoom),
    String(room.readAt.calls),
  ];
}

/**
 * Admissions of one instance with a statement or a transaction open at once. Each holds a pooled
 * connection: a few keep the day's row busy (one commits while the next waits on its lock, or
 * stores its intent), more would only take connections the rest of the service needs; the others
 * wait in memory without one.
 */
const ADMISSIONS_IN_FLIGHT = 4;

@Injectable()
export class GuardrailDayRepository {
  private readonly inFlight = new Semaphore(ADMISSIONS_IN_FLIGHT);
  /**
   * The admissions in flight take turns here to send their count, once their work is done: the
   * database then holds at most one of them waiting on the counters' row lock (behind another
   * instance's count or the commit of the one before), and a wait in memory does not count against
   * the statement timeout.
   */
  private readonly turn = new Mutex();

  constructor(@InjectRepository(GuardrailDayEntity) private readonly repo: Repository<GuardrailDayEntity>) {}

  async admittedSoFar(day: string): Promise<AdmittedSoFar> {
    const [row] = await this.repo.query<{ admitted_spend_units: string; admitted_calls: string }[]>(READ_SQL, [day]);
    return row ? { spendUnits: BigInt(row.admitted_spend_units), calls: BigInt(row.admitted_calls) } : { spendUnits: 0n, calls: 0n };
  }

  /**
   * Counts `request` in on `day` when the room allows, in the statement `store` runs with the gate
   * it is given (see InsertGate): what it inserts is committed with the count, or nothing is when
   * the counters refuse. One round trip and one commit; the day's row is locked only within that
   * statement. A few such statements may be in flight at once: they queue on the row lock in the
   * database, which hands it from one to the next without waiting on this process.
   */
  admitWithStatement<T>(
    day: string,
    request: AdmittedSoFar,
    room: AdmissionRoom,
    store: (gate: InsertGate) => Promise<T | null>,
  ): Promise<AdmissionOutcome<T>> {
    const gate: InsertGate = {
      cte: `admitted AS (${ADMIT_SQL})`,
      params: admitParams(day, request, room),
      condition: 'EXISTS (SELECT 1 FROM admitted)',
    };
    return this.inFlight.runExclusive(async () => {
      const value = await store(gate);
      return value === null ? { admitted: false } : { admitted: true, value };
    });
  }

  /** `work` with no admission to count: on the default manager, outside any transaction. */
  withoutAdmission<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return work(this.repo.manager);
  }

  /**
   * In one transaction: runs `work` (which stores the intent) with the transaction's manager, then,
   * as its last statement before the commit, counts `spendUnits` and `calls` in on `day` when the
   * room allows. The day's row is locked only from that statement to the commit, and the intent is
   * committed with the count, so the next admission anywhere sees both or neither. Not admitted:
   * the transaction is rolled back, so what `work` stored never existed.
   */
  admit<T>(
    day: string,
    request: { spendUnits: bigint; calls: bigint },
    room: AdmissionRoom,
    work: (tx: EntityManager) => Promise<T>,
  ): Promise<AdmissionOutcome<T>> {
    return this.inFlight.runExclusive(() => this.admitNow(day, request, room, work));
  }

  private async admitNow<T>(
    day: string,
    request: { spendUnits: bigint; calls: bigint },
    room: AdmissionRoom,
    work: (tx: EntityManager) => Promise<T>,
  ): Promise<AdmissionOutcome<T>> {
    const runner = this.repo.manager.connection.createQueryRunner();
    try {
      await runner.startTransaction();
      const value = await work(runner.manager);
      const counted = await this.turn.runExclusive(
        async () => (await runner.query(ADMIT_SQL, admitParams(day, request, room))) as unknown[],
      );
      // the turn is over once the count is in: the next one's statement waits for this commit in the database
      if (counted.length === 0) {
        await runner.rollbackTransaction();
        return { admitted: false };
      }
      await runner.commitTransaction();
      return { admitted: true, value };
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }
}
