/** Runs after a record is stored; answers how many waiting events it applied to the record. */
export type RecordStoredListener = (sid: string) => Promise<number>;

/**
 * Lets a module that owns records tell others that one now exists, without importing them: the
 * webhook inbox registers here to apply the callbacks that arrived before the record.
 */
export class RecordStoredListeners {
  private readonly listeners: RecordStoredListener[] = [];

  add(listener: RecordStoredListener): void {
    this.listeners.push(listener);
  }

  async notify(sid: string): Promise<number> {
    let applied = 0;
    for (const listener of this.listeners) applied += await listener(sid);
    return applied;
  }
}
