/** mulberry32: small, fast and good enough to make fault injection repeatable under a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Probabilities are 0..1 per API request or per callback delivery. */
export interface FaultSettings {
  /** 429 with code 20429. */
  rateLimit: number;
  /** 500 with code 20500. */
  serverError: number;
  /** Answer after `slowMs` real milliseconds. */
  slow: number;
  slowMs: number;
  /** Never answer; the socket is closed after `timeoutMs` real milliseconds (or on stop). */
  timeout: number;
  timeoutMs: number;
  /** Deliver a callback twice with the same idempotency token. */
  callbackDuplicate: number;
  /** Hold a callback back by a random 0..reorderSeconds virtual seconds, so later ones may overtake it. */
  callbackReorder: number;
  reorderSeconds: number;
  /** Hold a callback back by `delaySeconds` virtual seconds. */
  callbackDelay: number;
  delaySeconds: number;
  /** Never deliver a callback (it is still recorded, with error "dropped"). */
  callbackDrop: number;
  /** Send a callback with a signature that does not verify. */
  callbackBadSignature: number;
}

export type FaultOptions = Partial<FaultSettings> & { seed?: number };

export const NO_FAULTS: FaultSettings = {
  rateLimit: 0,
  serverError: 0,
  slow: 0,
  slowMs: 2000,
  timeout: 0,
  timeoutMs: 60_000,
  callbackDuplicate: 0,
  callbackReorder: 0,
  reorderSeconds: 5,
  callbackDelay: 0,
  delaySeconds: 10,
  callbackDrop: 0,
  callbackBadSignature: 0,
};

const PROBABILITIES = [
  'rateLimit',
  'serverError',
  'slow',
  'timeout',
  'callbackDuplicate',
  'callbackReorder',
  'callbackDelay',
  'callbackDrop',
  'callbackBadSignature',
] as const;

export class Faults {
  private settings: FaultSettings = { ...NO_FAULTS };
  private random: () => number;

  constructor(private seed: number) {
    this.random = seededRandom(seed);
  }

  /** Replaces the whole fault configuration and restarts the PRNG, so a run is repeatable. */
  set(options: FaultOptions): FaultSettings {
    const next = { ...NO_FAULTS };
    for (const [key, value] of Object.entries(options)) {
      if (key === 'seed') continue;
      if (!(key in NO_FAULTS)) throw new Error(`unknown fault option ${key}`);
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new Error(`fault option ${key} must be a non-negative number`);
      }
      if ((PROBABILITIES as readonly string[]).includes(key) && value > 1) {
        throw new Error(`fault option ${key} is a probability (0..1)`);
      }
      next[key as keyof FaultSettings] = value;
    }
    if (options.seed !== undefined) this.seed = options.seed;
    this.random = seededRandom(this.seed);
    this.settings = next;
    return this.current;
  }

  get current(): FaultSettings {
    return { ...this.settings };
  }

  /** Draws for every probability so the sequence of outcomes depends only on the seed and call order. */
  roll(kind: (typeof PROBABILITIES)[number]): boolean {
    const p = this.settings[kind];
    if (p <= 0) return false;
    return this.random() < p;
  }

  fraction(): number {
    return this.random();
  }
}
