import type { EntityManager } from 'typeorm';

/**
 * Runs inside the transaction that changed a record's status, after the change: `record` as it is
 * now, `previousStatus` null when the record was just stored. What it writes commits or rolls
 * back with the change.
 */
export type RecordChangedListener<T> = (tx: EntityManager, record: T, previousStatus: string | null) => Promise<void>;

/**
 * Lets a module that owns records tell others, within its transaction, that a record's status
 * changed, without importing them (the events outbox registers here).
 */
export class RecordChangedListeners<T> {
  private readonly listeners: RecordChangedListener<T>[] = [];

  add(listener: RecordChangedListener<T>): void {
    this.listeners.push(listener);
  }

  /** Whether anyone listens: without listeners a change needs no transaction of its own. */
  get empty(): boolean {
    return this.listeners.length === 0;
  }

  async notify(tx: EntityManager, record: T, previousStatus: string | null): Promise<void> {
    for (const listener of this.listeners) await listener(tx, record, previousStatus);
  }
}
