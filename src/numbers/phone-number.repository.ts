import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, MoreThanOrEqual, Not, Repository } from 'typeorm';
import { RecordChangedListener, RecordChangedListeners } from '../common/record-changed.listeners';
import { isUniqueViolation } from '../db/postgres-errors';
import { NumberStatus, UNRESOLVED_PURCHASE_STATUSES } from './number-status';
import { PendingNumberChange, PhoneNumberEntity } from './phone-number.entity';

/** The statuses that hold a phone number (see the partial unique index on the entity). */
const HOLDING_STATUSES: NumberStatus[] = [...UNRESOLVED_PURCHASE_STATUSES, 'active'];

@Injectable()
export class PhoneNumberRepository {
  private readonly changed = new RecordChangedListeners<PhoneNumberEntity>();

  constructor(@InjectRepository(PhoneNumberEntity) private readonly repo: Repository<PhoneNumberEntity>) {}

  /**
   * Runs `listener` in the transaction that completes a purchase (previous null: the number is now
   * ours) or releases a number (previous 'active').
   */
  onChanged(listener: RecordChangedListener<PhoneNumberEntity>): void {
    this.changed.add(listener);
  }

  /**
   * Stores a purchase before Twilio is asked (status `purchasing`, no sid); null when the number is
   * held by another row meanwhile (owned, or another purchase of it). Throws when the write fails.
   */
  async insertIntent(data: Partial<PhoneNumberEntity>, manager?: EntityManager): Promise<PhoneNumberEntity | null> {
    const row = this.repo.create({ ...data, sid: null, status: 'purchasing', releasedAt: null });
    try {
      // inside the caller's transaction, a savepoint: a number held meanwhile must not abort the rest of it
      return manager ? await manager.transaction((inner) => inner.getRepository(PhoneNumberEntity).save(row)) : await this.repo.save(row);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  findById(id: string): Promise<PhoneNumberEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  findBySid(sid: string): Promise<PhoneNumberEntity | null> {
    return this.repo.findOne({ where: { sid } });
  }

  /** The row holding `phoneNumber`: owned, or a purchase of it not resolved yet. */
  findHolderOf(phoneNumber: string, manager: EntityManager = this.repo.manager): Promise<PhoneNumberEntity | null> {
    return manager.getRepository(PhoneNumberEntity).findOne({ where: { phoneNumber, status: In(HOLDING_STATUSES) } });
  }

  listActive(): Promise<PhoneNumberEntity[]> {
    return this.listByStatus('active');
  }

  listByStatus(status: NumberStatus): Promise<PhoneNumberEntity[]> {
    return this.repo.find({ where: { status }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** Purchases Twilio has not confirmed (purchasing or unknown), oldest first. */
  listUnresolvedIntents(): Promise<PhoneNumberEntity[]> {
    return this.repo.find({
      where: { sid: IsNull(), status: In([...UNRESOLVED_PURCHASE_STATUSES]) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /**
   * Completes the purchase `id` with what Twilio says of the number it bought, once; the row, or
   * null when it already has another sid or is gone. Throws when the write fails.
   */
  async completeIntent(id: string, owned: Partial<PhoneNumberEntity> & { sid: string }): Promise<PhoneNumberEntity | null> {
    return this.repo.manager.transaction(async (tx) => {
      const numbers = tx.getRepository(PhoneNumberEntity);
      const result = await numbers.update({ id, sid: IsNull() }, { ...owned, status: 'active', releasedAt: null });
      const row = await numbers.findOne({ where: { id } });
      if (row && (result.affected ?? 0) > 0) await this.changed.notify(tx, row, null);
      return row?.sid === owned.sid ? row : null;
    });
  }

  /** Twilio surely bought nothing: the intent goes away. */
  async deleteIntent(id: string): Promise<void> {
    await this.repo.delete({ id, sid: IsNull() });
  }

  /** Twilio's answer was lost: whether it bought the number is for the next sync to find out. */
  async markIntentUnknown(id: string): Promise<void> {
    await this.repo.update({ id, sid: IsNull(), status: 'purchasing' }, { status: 'unknown' });
  }

  /**
   * Twilio does not have the number: the purchase failed; true when this call marked it. Listeners
   * run in the transaction of the change (number.purchase_failed).
   */
  async failIntent(id: string): Promise<boolean> {
    return this.repo.manager.transaction(async (tx) => {
      const [rows] = await tx.query<[{ id: string; previous: string }[], number]>(
        `UPDATE phone_numbers p SET status = 'failed', updated_at = now()
         FROM (SELECT id, status FROM phone_numbers WHERE id = $1 AND sid IS NULL AND status = ANY($2) FOR UPDATE) old
         WHERE p.id = old.id RETURNING p.id, old.status AS previous`,
        [id, [...UNRESOLVED_PURCHASE_STATUSES]],
      );
      for (const row of rows) {
        await this.changed.notify(tx, await tx.getRepository(PhoneNumberEntity).findOneOrFail({ where: { id: row.id } }), row.previous);
      }
      return rows.length > 0;
    });
  }

  /** Stores the change about to be asked of Twilio on the active number `sid`; false when it is not active. */
  async setPendingChange(sid: string, change: PendingNumberChange | null): Promise<boolean> {
    const result = await this.repo.update({ sid, status: 'active' }, { pendingChange: change });
    return (result.affected ?? 0) > 0;
  }

  /** Marks the number released (its pending change is done). True when it was active. */
  async markReleased(sid: string, at: Date): Promise<boolean> {
    return this.repo.manager.transaction(async (tx) => {
      const [rows] = await tx.query<[{ id: string }[], number]>(
        `UPDATE phone_numbers SET status = 'released', released_at = $2, pending_change = NULL, updated_at = now()
         WHERE sid = $1 AND status = 'active' RETURNING id`,
        [sid, at],
      );
      for (const { id } of rows) {
        await this.changed.notify(tx, await tx.getRepository(PhoneNumberEntity).findOneOrFail({ where: { id } }), 'active');
      }
      return rows.length > 0;
    });
  }

  async update(sid: string, patch: Partial<PhoneNumberEntity>): Promise<void> {
    await this.repo.update({ sid }, patch);
  }

  /**
   * Numbers bought through this service since `since`, purchases not resolved yet included
   * (numbers recorded from Twilio's list have no buyer; a failed purchase cost nothing).
   */
  countPurchasedSince(since: Date): Promise<number> {
    return this.repo.count({ where: { purchasedBy: Not(IsNull()), createdAt: MoreThanOrEqual(since), status: Not('failed') } });
  }

  setAssistant(sid: string, assistantId: string | null): Promise<unknown> {
    return this.repo.update({ sid }, { assistantId });
  }

  /** The assistant of the owned number `phoneNumber`, or null. */
  async assistantOf(phoneNumber: string): Promise<string | null> {
    const row = await this.repo.findOne({ select: { id: true, assistantId: true }, where: { phoneNumber, status: 'active' } });
    return row?.assistantId ?? null;
  }

  /** Owned numbers that route to `assistantId`. */
  listRoutingTo(assistantId: string): Promise<PhoneNumberEntity[]> {
    return this.repo.find({ where: { assistantId, status: 'active' }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  countActive(): Promise<number> {
    return this.repo.count({ where: { status: 'active' } });
  }

  /**
   * Inserts a number unless its sid (or its phone number, held by another row) is already stored;
   * true when inserted. A number found at Twilio that we did not know is ours from now on: the
   * listeners run in the transaction of the insert, as for a purchase.
   */
  async insertIfAbsent(data: Partial<PhoneNumberEntity>): Promise<boolean> {
    return this.repo.manager.transaction(async (tx) => {
      const result = await tx
        .createQueryBuilder()
        .insert()
        .into(PhoneNumberEntity)
        .values({ status: 'active', ...data })
        .orIgnore()
        .returning(['id'])
        .execute();
      const rows = Array.isArray(result.raw) ? (result.raw as { id: string }[]) : [];
      if (!rows.length) return false;
      await this.changed.notify(tx, await tx.getRepository(PhoneNumberEntity).findOneOrFail({ where: { id: rows[0].id } }), null);
      return true;
    });
  }

  /**
   * Twilio lists a number we had marked released (or never completed): it is ours again, and the
   * listeners run as for a purchase. Other fields are refreshed without an event.
   */
  async adoptListed(sid: string, patch: Partial<PhoneNumberEntity>): Promise<void> {
    await this.repo.manager.transaction(async (tx) => {
      const [rows] = await tx.query<[{ id: string }[], number]>(
        `UPDATE phone_numbers SET status = 'active', released_at = NULL, updated_at = now() WHERE sid = $1 AND status <> 'active' RETURNING id`,
        [sid],
      );
      await tx.getRepository(PhoneNumberEntity).update({ sid }, patch);
      for (const { id } of rows) {
        await this.changed.notify(tx, await tx.getRepository(PhoneNumberEntity).findOneOrFail({ where: { id } }), 'released');
      }
    });
  }
}
