/**
 * Virtual time: `speed` virtual seconds pass per real second. Every lifecycle step and callback is
 * registered here so `settle()` knows when the sandbox is idle and `stop()` leaves no handle open.
 */
export class Scheduler {
  private readonly startReal = Date.now();
  private readonly startVirtual: number;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  /** Timers `settle()` does not wait for, such as the 4 h cap of a call that waits for a hang-up. */
  private readonly background = new Set<number>();
  private readonly tasks = new Set<Promise<unknown>>();
  private nextId = 1;
  private stopped = false;

  constructor(
    readonly speed: number,
    startAt: Date = new Date(),
    private readonly onTaskFailure: (error: unknown) => void = () => undefined,
  ) {
    if (!(speed > 0)) throw new Error('speed must be > 0');
    this.startVirtual = startAt.getTime();
  }

  now(): Date {
    return new Date(this.startVirtual + (Date.now() - this.startReal) * this.speed);
  }

  /** Runs `fn` after `seconds` of virtual time; returns a handle for `cancel`. */
  after(seconds: number, fn: () => unknown, opts: { background?: boolean } = {}): number {
    const id = this.nextId++;
    if (this.stopped) return id;
    const timer = setTimeout(
      () => {
        this.timers.delete(id);
        this.background.delete(id);
        this.track(Promise.resolve().then(fn));
      },
      Math.max(0, (seconds * 1000) / this.speed),
    );
    this.timers.set(id, timer);
    if (opts.background) this.background.add(id);
    return id;
  }

  cancel(id: number | undefined): void {
    if (id === undefined) return;
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
    this.background.delete(id);
  }

  /**
   * Runs `task` in the background (a lifecycle step or callback nobody awaits) and keeps `settle()`
   * waiting until it is done; a failure goes to `onTaskFailure`.
   */
  track(task: Promise<unknown>): void {
    const tracked = task.catch(this.onTaskFailure);
    this.tasks.add(tracked);
    void tracked.finally(() => this.tasks.delete(tracked));
  }

  get pending(): number {
    return this.timers.size - this.background.size + this.tasks.size;
  }

  async settle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0) {
      if (Date.now() > deadline) throw new Error(`sandbox did not settle: ${this.pending} pending`);
      if (this.tasks.size > 0) await Promise.race([...this.tasks, delay(5)]);
      else await delay(2);
    }
  }

  /** Cancels every timer (tasks already running finish on their own). */
  cancelAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.background.clear();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.background.clear();
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
