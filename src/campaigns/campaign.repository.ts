import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { Cursor, Page, keysetPage } from '../common/cursor';
import { CampaignAttemptEntity, type AttemptState } from './campaign-attempt.entity';
import { CampaignEntity, CampaignState } from './campaign.entity';
import type { ImportedRecipient } from './campaign-import';
import { CampaignRecipientEntity, RecipientState } from './campaign-recipient.entity';

/** Recipients one INSERT carries (each a row of unnest arrays). */
const INSERT_CHUNK = 5000;

/** A recipient claimed for its next attempt, with that attempt's row. */
export interface Claim {
  recipient: CampaignRecipientEntity;
  attemptId: string;
  attemptNumber: number;
}

/** What an ended call or message means for its recipient. */
export interface AttemptEnd {
  attemptId: string;
  status: string;
  outcome: string;
  success: boolean;
  price: string | null;
  at: Date;
  error: string | null;
  /** The call or message that ended, when one was placed: an attempt a crash interrupted learns it only here. */
  record?: { id: string; sid: string | null };
}

/** The account's rate for one channel, which every campaign on every instance shares. */
export interface AccountPace {
  channel: 'call' | 'sms';
  perSecond: number;
  /** How long after it was sent a request never answered (its sender died) may still have reached Twilio. */
  inFlightMs: number;
}

/** The account's rate has no room now: look again after this long. */
export interface PaceWait {
  waitMs: number;
}

/** How often to look again while the requests holding every slot are still in flight. */
const IN_FLIGHT_POLL_MS = 50;

export interface RecipientAfterEnd {
  recipient: CampaignRecipientEntity;
  campaign: CampaignEntity;
}

const FINAL: RecipientState[] = ['completed', 'failed', 'skipped'];

@Injectable()
export class CampaignRepository {
  constructor(
    @InjectRepository(CampaignEntity) private readonly campaigns: Repository<CampaignEntity>,
    @InjectRepository(CampaignRecipientEntity) private readonly recipients: Repository<CampaignRecipientEntity>,
    @InjectRepository(CampaignAttemptEntity) private readonly attempts: Repository<CampaignAttemptEntity>,
  ) {}

  /** The campaign and all its recipients in one transaction, with `also` (its first job) in it. */
  async create(
    campaign: Omit<CampaignEntity, 'id' | 'createdAt' | 'updatedAt'>,
    recipients: ImportedRecipient[],
    also: (tx: EntityManager, campaign: CampaignEntity) => Promise<void>,
  ): Promise<CampaignEntity> {
    return this.campaigns.manager.transaction(async (tx) => {
      const saved = await tx.getRepository(CampaignEntity).save(tx.getRepository(CampaignEntity).create(campaign));
      for (let i = 0; i < recipients.length; i += INSERT_CHUNK) {
        const chunk = recipients.slice(i, i + INSERT_CHUNK);
        await tx.query(
          `INSERT INTO campaign_recipients
             (campaign_id, position, to_number, time_zones, variables, metadata, content, state, skip_reason, skip_message, next_attempt_at)
           SELECT $1, r.position, r.to_number, r.time_zones, r.variables, r.metadata, r.content,
                  CASE WHEN r.skip_reason IS NULL THEN 'pending' ELSE 'skipped' END, r.skip_reason, r.skip_message,
                  CASE WHEN r.skip_reason IS NULL THEN $2::timestamptz END
           FROM unnest($3::int[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::text[], $9::text[], $10::text[])
             AS r(position, to_number, time_zones, variables, metadata, content, skip_reason, skip_message)`,
          [
            saved.id,
            saved.startAt,
            chunk.map((r) => r.position),
            chunk.map((r) => r.to),
            chunk.map((r) => r.timeZones.join(',')),
            chunk.map((r) => JSON.stringify(r.variables)),
            chunk.map((r) => JSON.stringify(r.metadata)),
            chunk.map((r) => r.content),
            chunk.map((r) => r.skipReason),
            chunk.map((r) => r.skipMessage),
          ],
        );
      }
      await also(tx, saved);
      return saved;
    });
  }

  findById(id: string): Promise<CampaignEntity | null> {
    return this.campaigns.findOne({ where: { id } });
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  listPage(cursor: Cursor | null, limit: number, state?: CampaignState): Promise<Page<CampaignEntity>> {
    const q = this.campaigns.createQueryBuilder('c');
    if (state) q.andWhere('c.state = :state', { state });
    return keysetPage(q, cursor, limit);
  }

  /** Campaigns an engine should be running (to make sure each has a job after a restart). */
  async activeIds(): Promise<string[]> {
    const rows = await this.campaigns.find({ select: { id: true }, where: { state: In(['scheduled', 'running']) } });
    return rows.map((r) => r.id);
  }

  /**
   * Moves the campaign from one of `from` to `to` in one statement, with `also` (its event, its
   * job) in the same transaction; null when it was in none of `from`.
   */
  async transition(
    id: string,
    from: CampaignState[],
    to: CampaignState,
    changes: { pausedReason?: string | null; startedAt?: Date; finishedAt?: Date },
    also?: (tx: EntityManager, campaign: CampaignEntity) => Promise<void>,
  ): Promise<CampaignEntity | null> {
    return this.campaigns.manager.transaction(async (tx) => {
      const [rows] = await tx.query<[Record<string, unknown>[], number]>(
        `UPDATE campaigns SET state = $3, updated_at = now(),
           paused_reason = CASE WHEN $4::boolean THEN $5::text ELSE paused_reason END,
           started_at = COALESCE(started_at, $6::timestamptz),
           finished_at = COALESCE(finished_at, $7::timestamptz)
         WHERE id = $1 AND state = ANY($2) RETURNING id`,
        [id, from, to, 'pausedReason' in changes, changes.pausedReason ?? null, changes.startedAt ?? null, changes.finishedAt ?? null],
      );
      if (!rows.length) return null;
      const campaign = (await tx.getRepository(CampaignEntity).findOne({ where: { id } }))!;
      if (to === 'canceled') await skipUnreached(tx, id);
      if (also) await also(tx, campaign);
      return campaign;
    });
  }

  async countsByState(campaignId: string): Promise<Record<RecipientState, number>> {
    const rows = await this.recipients.query<{ state: RecipientState; n: string }[]>(
      'SELECT state, count(*) AS n FROM campaign_recipients WHERE campaign_id = $1 GROUP BY state',
      [campaignId],
    );
    const counts = { pending: 0, scheduled: 0, in_progress: 0, completed: 0, failed: 0, skipped: 0, retrying: 0 };
    for (const row of rows) counts[row.state] = Number(row.n);
    return counts;
  }

  /** Prices Twilio reported for the campaign's attempts, and how many ended attempts have none yet. */
  async spend(campaignId: string): Promise<{ priced: string; unpriced: number; attempts: number }> {
    const [row] = await this.attempts.query<{ priced: string | null; unpriced: string; attempts: string }[]>(
      `SELECT COALESCE(sum(abs(price)), 0)::text AS priced, count(*) FILTER (WHERE price IS NULL) AS unpriced, count(*) AS attempts
       FROM campaign_attempts WHERE campaign_id = $1`,
      [campaignId],
    );
    return { priced: row.priced ?? '0', unpriced: Number(row.unpriced), attempts: Number(row.attempts) };
  }

  /** Attempts per second over the last minute (for the ETA). */
  async recentRate(campaignId: string): Promise<number> {
    const [row] = await this.attempts.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM campaign_attempts WHERE campaign_id = $1 AND requested_at > now() - interval '60 seconds'`,
      [campaignId],
    );
    return Number(row.n) / 60;
  }

  /** Recipients by position, after `afterPosition`, with their attempts. */
  async recipientsPage(
    campaignId: string,
    afterPosition: number,
    limit: number,
    state?: RecipientState,
  ): Promise<{ recipients: CampaignRecipientEntity[]; attempts: Map<string, CampaignAttemptEntity[]>; more: boolean }> {
    const q = this.recipients
      .createQueryBuilder('r')
      .where('r.campaign_id = :campaignId AND r.position > :afterPosition', { campaignId, afterPosition })
      .orderBy('r.position', 'ASC')
      .limit(limit + 1);
    if (state) q.andWhere('r.state = :state', { state });
    const found = await q.getMany();
    const recipients = found.slice(0, limit);
    const attempts = new Map<string, CampaignAttemptEntity[]>();
    if (recipients.length) {
      const rows = await this.attempts.find({
        where: { recipientId: In(recipients.map((r) => r.id)) },
        order: { attemptNumber: 'ASC' },
      });
      for (const a of rows) attempts.set(a.recipientId, [...(attempts.get(a.recipientId) ?? []), a]);
    }
    return { recipients, attempts, more: found.length > limit };
  }

  /** The distinct zone sets of recipients due now (the engine checks each against the window). */
  async dueZoneSets(campaignId: string, now: Date): Promise<string[]> {
    const rows = await this.recipients.query<{ time_zones: string }[]>(
      `SELECT DISTINCT time_zones FROM campaign_recipients
       WHERE campaign_id = $1 AND state IN ('pending', 'retrying') AND next_attempt_at <= $2`,
      [campaignId, now],
    );
    return rows.map((r) => r.time_zones);
  }

  /** When the next recipient not yet due becomes due; null when none waits. */
  async nextDueAt(campaignId: string): Promise<Date | null> {
    const [row] = await this.recipients.query<{ at: Date | null }[]>(
      `SELECT min(next_attempt_at) AS at FROM campaign_recipients WHERE campaign_id = $1 AND state IN ('pending', 'retrying')`,
      [campaignId],
    );
    return row.at ? new Date(row.at) : null;
  }

  /** Recipients not final yet: waiting, being dialed or live. */
  async unfinished(campaignId: string): Promise<number> {
    const [row] = await this.recipients.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM campaign_recipients WHERE campaign_id = $1 AND state <> ALL($2)`,
      [campaignId, FINAL],
    );
    return Number(row.n);
  }

  /** Attempts placed and not ended (live calls, and those being placed). */
  async openAttempts(campaignId: string): Promise<number> {
    const [row] = await this.attempts.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM campaign_attempts WHERE campaign_id = $1 AND state <> 'done'`,
      [campaignId],
    );
    return Number(row.n);
  }

  /** When Twilio answered the campaign's latest `n` requests (now for those not answered yet), newest first. */
  async latestAnswers(campaignId: string, n: number): Promise<number[]> {
    const rows = await this.attempts.query<{ at: Date }[]>(
      `SELECT COALESCE(answered_at, now()) AS at FROM campaign_attempts
       WHERE campaign_id = $1 AND requested_at IS NOT NULL ORDER BY requested_at DESC LIMIT $2`,
      [campaignId, n],
    );
    return rows.map((r) => new Date(r.at).getTime());
  }

  /**
   * Claims the next due recipient whose zones are open, with SKIP LOCKED so no two dispatchers
   * take one recipient, and writes its attempt in the same transaction.
   */
  async claimNext(campaignId: string, openZoneSets: string[], now: Date, pace: AccountPace): Promise<Claim | PaceWait | null> {
    if (!openZoneSets.length) return null;
    return this.recipients.manager.transaction(async (tx) => {
      const slot = await this.freeSlot(tx, pace);
      if (typeof slot !== 'number') return slot;
      const [rows] = await tx.query<[{ id: string }[], number]>(
        `UPDATE campaign_recipients SET state = 'scheduled', attempts = attempts + 1, updated_at = now()
         WHERE id = (
           SELECT id FROM campaign_recipients
           WHERE campaign_id = $1 AND state IN ('pending', 'retrying') AND next_attempt_at <= $2 AND time_zones = ANY($3)
           ORDER BY next_attempt_at, position LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id`,
        [campaignId, now, openZoneSets],
      );
      if (!rows.length) return null;
      const recipient = (await tx.getRepository(CampaignRecipientEntity).findOne({ where: { id: rows[0].id } }))!;
      const [attempt] = await tx.query<{ id: string }[]>(
        `INSERT INTO campaign_attempts (campaign_id, recipient_id, attempt_number, state, requested_at)
         VALUES ($1, $2, $3, 'placing', now()) RETURNING id`,
        [campaignId, recipient.id, recipient.attempts],
      );
      await this.holdSlot(tx, pace.channel, slot, attempt.id);
      return { recipient, attemptId: attempt.id, attemptNumber: recipient.attempts };
    });
  }

  /** A slot of the account's rate for an attempt claimed earlier (one a dead run left placing); null once held. */
  async reserveSlot(pace: AccountPace, attemptId: string): Promise<PaceWait | null> {
    return this.attempts.manager.transaction(async (tx) => {
      const slot = await this.freeSlot(tx, pace);
      if (typeof slot !== 'number') return slot;
      await this.holdSlot(tx, pace.channel, slot, attemptId);
      return null;
    });
  }

  /** Twilio answered the attempt's request (or refused it): its slot counts for one more second. */
  async slotAnswered(attemptId: string): Promise<void> {
    await this.attempts.query(
      `UPDATE campaign_pacing_slots SET answered_at = clock_timestamp() WHERE attempt_id = $1 AND answered_at IS NULL`,
      [attemptId],
    );
  }

  /**
   * Locks the channel's slots (so claimers on every instance take turns) and finds one that no
   * longer counts against the rate: a request counts from when it is sent until a second after
   * Twilio answered it, so over any one second at most `perSecond` requests can reach Twilio.
   * Times are the database's, shared by all instances.
   */
  private async freeSlot(tx: EntityManager, pace: AccountPace): Promise<number | PaceWait> {
    const read = () =>
      tx.query<{ slot: number; busy: boolean; wait_ms: string | null }[]>(
        `SELECT slot,
           requested_at IS NOT NULL
             AND COALESCE(answered_at, requested_at + $2 * interval '1 millisecond') > clock_timestamp() - interval '1 second' AS busy,
           CASE WHEN answered_at IS NOT NULL THEN ceil(extract(epoch FROM answered_at + interval '1 second' - clock_timestamp()) * 1000) END AS wait_ms
         FROM campaign_pacing_slots WHERE channel = $1 ORDER BY slot FOR UPDATE`,
        [pace.channel, pace.inFlightMs],
      );
    let slots = await read();
    if (slots.length < pace.perSecond) {
      await tx.query(
        `INSERT INTO campaign_pacing_slots (channel, slot) SELECT $1, s FROM generate_series(0, $2 - 1) AS s ON CONFLICT DO NOTHING`,
        [pace.channel, pace.perSecond],
      );
      slots = await read();
    }
    const busy = slots.filter((s) => s.busy);
    if (busy.length < pace.perSecond) return slots.find((s) => !s.busy)!.slot;
    const answered = busy.filter((s) => s.wait_ms !== null).map((s) => Number(s.wait_ms));
    return { waitMs: answered.length ? Math.max(1, Math.min(...answered)) : IN_FLIGHT_POLL_MS };
  }

  private async holdSlot(tx: EntityManager, channel: 'call' | 'sms', slot: number, attemptId: string): Promise<void> {
    await tx.query(
      `UPDATE campaign_pacing_slots SET attempt_id = $3, requested_at = clock_timestamp(), answered_at = NULL
       WHERE channel = $1 AND slot = $2`,
      [channel, slot, attemptId],
    );
  }

  /** Attempts left `placing` by a dispatcher that died, with their recipients. */
  async stalePlacing(campaignId: string, olderThan: Date): Promise<{ attemptId: string; recipient: CampaignRecipientEntity }[]> {
    const attempts = await this.attempts.find({ where: { campaignId, state: 'placing' } });
    const stale = attempts.filter((a) => !a.requestedAt || a.requestedAt < olderThan);
    if (!stale.length) return [];
    const recipients = await this.recipients.find({ where: { id: In(stale.map((a) => a.recipientId)) } });
    return stale.map((a) => ({ attemptId: a.id, recipient: recipients.find((r) => r.id === a.recipientId)! }));
  }

  /** Twilio took the attempt: its record, sid and status; the recipient is in progress. */
  async markPlaced(attemptId: string, recordId: string, sid: string | null, status: string): Promise<void> {
    await this.attempts.manager.transaction(async (tx) => {
      await tx.query(
        `UPDATE campaign_attempts SET record_id = $2, sid = COALESCE(sid, $3), status = COALESCE(status, $4),
           answered_at = COALESCE(answered_at, now()), state = CASE WHEN state = 'placing' THEN 'live' ELSE state END
         WHERE id = $1`,
        [attemptId, recordId, sid, status],
      );
      await tx.query(
        `UPDATE campaign_recipients r SET state = 'in_progress', updated_at = now()
         FROM campaign_attempts a WHERE a.id = $1 AND r.id = a.recipient_id AND r.state = 'scheduled' AND a.state = 'live'`,
        [attemptId],
      );
    });
  }

  /** Nothing was asked of Twilio (a guardrail refused): the attempt is undone and the recipient waits again. */
  async undoClaim(attemptId: string): Promise<void> {
    await this.attempts.manager.transaction((tx) => undoAttempt(tx, attemptId, ['placing'], null));
  }

  /**
   * Twilio never received the attempt's request (reconciliation failed its call or message, which
   * has no sid): the person was not reached, so the attempt is undone, within the transaction that
   * failed the record, and the recipient waits for its turn again. The record stays in the history.
   */
  async undoUnsent(tx: EntityManager, attemptId: string, recordId: string): Promise<void> {
    await undoAttempt(tx, attemptId, ['placing', 'live'], recordId);
  }

  /** Records the live status of an attempt's call, within the transaction that changed it. */
  async observe(tx: EntityManager, attemptId: string, recordId: string, sid: string | null, status: string): Promise<void> {
    await tx.query(
      `UPDATE campaign_attempts SET status = $3, record_id = COALESCE(record_id, $2), sid = COALESCE(sid, $4),
         answered_at = COALESCE(answered_at, now()), state = CASE WHEN state = 'placing' THEN 'live' ELSE state END
       WHERE id = $1 AND state <> 'done'`,
      [attemptId, recordId, status, sid],
    );
    await tx.query(
      `UPDATE campaign_recipients r SET state = 'in_progress', updated_at = now()
       FROM campaign_attempts a WHERE a.id = $1 AND r.id = a.recipient_id AND r.state = 'scheduled' AND a.state = 'live'`,
      [attemptId],
    );
  }

  /**
   * Ends an attempt (within `tx`, the transaction of the call's or message's final status, or of a
   * refusal) and decides its recipient: completed, retrying after the campaign's delay when the
   * outcome is one to retry and attempts remain, else failed. Null when the attempt had ended already.
   */
  async endAttempt(tx: EntityManager, end: AttemptEnd): Promise<RecipientAfterEnd | null> {
    const [ended] = await tx.query<[{ recipient_id: string; campaign_id: string }[], number]>(
      `UPDATE campaign_attempts SET state = 'done', status = $2, outcome = $3, price = $4, ended_at = $5,
         answered_at = COALESCE(answered_at, $5), error = $6, record_id = COALESCE(record_id, $7), sid = COALESCE(sid, $8)
       WHERE id = $1 AND state <> 'done' RETURNING recipient_id, campaign_id`,
      [end.attemptId, end.status, end.outcome, end.price, end.at, end.error, end.record?.id ?? null, end.record?.sid ?? null],
    );
    if (!ended.length) return null;
    const campaign = (await tx.getRepository(CampaignEntity).findOne({ where: { id: ended[0].campaign_id } }))!;
    const retry = !end.success && campaign.retryOn.includes(end.outcome) && campaign.state !== 'canceled';
    await tx.query(
      `UPDATE campaign_recipients SET last_outcome = $2, updated_at = now(),
         state = CASE WHEN $3::boolean THEN 'completed' WHEN $4::boolean AND attempts < $5 THEN 'retrying' ELSE 'failed' END,
         next_attempt_at = CASE WHEN NOT $3::boolean AND $4::boolean AND attempts < $5 THEN $6::timestamptz END
       WHERE id = $1`,
      [
        ended[0].recipient_id,
        end.outcome,
        end.success,
        retry,
        campaign.maxAttempts,
        new Date(end.at.getTime() + campaign.retryAfterSeconds * 1000),
      ],
    );
    const recipient = (await tx.getRepository(CampaignRecipientEntity).findOne({ where: { id: ended[0].recipient_id } }))!;
    return { recipient, campaign };
  }

  /** endAttempt in a transaction of its own (Twilio refused the request). */
  endAttemptNow(end: AttemptEnd, also: (tx: EntityManager, after: RecipientAfterEnd) => Promise<void>): Promise<void> {
    return this.attempts.manager.transaction(async (tx) => {
      const after = await this.endAttempt(tx, end);
      if (after) await also(tx, after);
    });
  }

  async attemptsOf(recipientId: string): Promise<CampaignAttemptEntity[]> {
    return this.attempts.find({ where: { recipientId }, order: { attemptNumber: 'ASC' } });
  }
}

/**
 * Removes an attempt still in one of `states` (and, given `recordId`, not holding another record)
 * and gives its recipient the attempt back: it waits again, or is skipped when its campaign was
 * canceled meanwhile. Its pacing slot is freed at once.
 */
async function undoAttempt(tx: EntityManager, attemptId: string, states: AttemptState[], recordId: string | null): Promise<void> {
  const [, undone] = await tx.query<[unknown[], number]>(
    `WITH gone AS (
       DELETE FROM campaign_attempts
       WHERE id = $1 AND state = ANY($2) AND ($3::uuid IS NULL OR record_id IS NULL OR record_id = $3::uuid)
       RETURNING recipient_id, campaign_id
     )
     UPDATE campaign_recipients r SET attempts = r.attempts - 1, updated_at = now(),
       state = CASE WHEN c.state = 'canceled' THEN 'skipped' WHEN r.attempts - 1 > 0 THEN 'retrying' ELSE 'pending' END,
       skip_reason = CASE WHEN c.state = 'canceled' THEN 'campaign_canceled' END,
       skip_message = CASE WHEN c.state = 'canceled' THEN 'the campaign was canceled before this recipient was reached' END,
       next_attempt_at = CASE WHEN c.state <> 'canceled' THEN COALESCE(r.next_attempt_at, now()) END
     FROM gone JOIN campaigns c ON c.id = gone.campaign_id
     WHERE r.id = gone.recipient_id`,
    [attemptId, states, recordId],
  );
  if (undone === 0) return;
  await tx.query(`UPDATE campaign_pacing_slots SET attempt_id = NULL, requested_at = NULL, answered_at = NULL WHERE attempt_id = $1`, [
    attemptId,
  ]);
}

/** Recipients skipped per statement when a campaign is canceled. */
const SKIP_BATCH = 500;

/**
 * Skips every recipient of a canceled campaign not reached yet, in the caller's transaction, a batch
 * per statement: one statement over 100,000 recipients can outlast the statement timeout on a busy
 * database, and the cancel would fail. All batches commit or roll back with the campaign's state.
 */
async function skipUnreached(tx: EntityManager, campaignId: string): Promise<void> {
  // the rows are locked as they are picked, so one the engine claims meanwhile is left to it
  for (;;) {
    const [, skipped] = await tx.query<[unknown[], number]>(
      `WITH picked AS (
         SELECT id FROM campaign_recipients WHERE campaign_id = $1 AND state IN ('pending', 'retrying') LIMIT $2 FOR UPDATE
       )
       UPDATE campaign_recipients r SET state = 'skipped', skip_reason = 'campaign_canceled',
         skip_message = 'the campaign was canceled before this recipient was reached', next_attempt_at = NULL, updated_at = now()
       FROM picked WHERE r.id = picked.id`,
      [campaignId, SKIP_BATCH],
    );
    if (skipped === 0) return;
  }
}
