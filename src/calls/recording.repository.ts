import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { RecordChangedListener, RecordChangedListeners } from '../common/record-changed.listeners';
import { RecordingUpsert } from './call-observation';
import { RecordingEntity } from './recording.entity';

const FINAL = "('completed','absent','failed','deleted')";

@Injectable()
export class RecordingRepository {
  private readonly statusChanged = new RecordChangedListeners<RecordingEntity>();

  constructor(@InjectRepository(RecordingEntity) private readonly repo: Repository<RecordingEntity>) {}

  /** Runs `listener` in the transaction of every status change of a recording (a new one counts). */
  onStatusChanged(listener: RecordChangedListener<RecordingEntity>): void {
    this.statusChanged.add(listener);
  }

  /**
   * Inserts or completes a recording in one statement: the status only moves from in-progress to a
   * final one (completed/absent/failed) and stays there; facts fill in, a late in-progress report
   * never overwrites a final one's.
   */
  async upsert(r: RecordingUpsert): Promise<void> {
    const keepOld = `(recordings.status IN ${FINAL} AND EXCLUDED.status NOT IN ${FINAL})`;
    const fact = (column: string) =>
      `${column} = CASE WHEN ${keepOld} THEN COALESCE(recordings.${column}, EXCLUDED.${column}) ELSE COALESCE(EXCLUDED.${column}, recordings.${column}) END`;
    await this.repo.manager.transaction(async (tx) => {
      const [before] = await tx.query<{ status: string }[]>('SELECT status FROM recordings WHERE sid = $1 FOR UPDATE', [r.sid]);
      const rows = await tx.query<Record<string, unknown>[]>(
        `INSERT INTO recordings (sid, call_sid, url, status, duration_seconds, channels, source, started_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (sid) DO UPDATE SET
         status = CASE WHEN recordings.status IN ${FINAL} THEN recordings.status ELSE EXCLUDED.status END,
         ${fact('url')}, ${fact('duration_seconds')}, ${fact('channels')}, ${fact('source')}, ${fact('started_at')},
         updated_at = now()
       RETURNING id`,
        [r.sid, r.callSid, r.url, r.status, r.durationSeconds, r.channels, r.source, r.startedAt],
      );
      const saved = await tx.getRepository(RecordingEntity).findOneOrFail({ where: { id: rows[0].id as string } });
      if (saved.status !== before?.status) await this.statusChanged.notify(tx, saved, before?.status ?? null);
    });
  }

  findBySid(sid: string): Promise<RecordingEntity | null> {
    return this.repo.findOne({ where: { sid } });
  }

  listByCall(callSid: string): Promise<RecordingEntity[]> {
    return this.repo.find({ where: { callSid }, order: { createdAt: 'ASC', sid: 'ASC' } });
  }

  /** Call sids with a recording still in progress since before `olderThan`, for reconciliation; not of calls it set aside. */
  async callsWithStaleRecordings(olderThan: Date, limit: number): Promise<string[]> {
    const rows = await this.repo
      .createQueryBuilder('r')
      .select('DISTINCT r.call_sid', 'call_sid')
      .where(`r.status NOT IN ${FINAL}`)
      .andWhere('r.updated_at < :olderThan', { olderThan })
      .andWhere('NOT EXISTS (SELECT 1 FROM call_records c WHERE c.sid = r.call_sid AND c.reconcile_set_aside_at IS NOT NULL)')
      .limit(limit)
      .getRawMany<{ call_sid: string }>();
    return rows.map((row) => row.call_sid);
  }
}
