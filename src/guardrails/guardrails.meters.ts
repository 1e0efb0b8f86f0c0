/** What a module spent since a moment: priced usage in USD, and usage Twilio has not priced yet. */
export interface SpendReading {
  /** Sum of the prices Twilio reported, a decimal string (absolute values: Twilio reports charges as negatives). */
  actual: string;
  /** Usage not priced yet, to be estimated from the configured prices. */
  pending: PendingUsage;
}

export interface PendingUsage {
  voiceMinutes?: number;
  smsSegments?: number;
  /** Phone numbers bought, each charged one month up front. */
  numbers?: number;
}

export interface SpendQuery {
  since: Date;
  /** Minutes a call that is not priced yet and has no duration of its own is expected to last. */
  expectedCallMinutes: number;
}

export type SpendMeter = (query: SpendQuery) => Promise<SpendReading>;
/** How many calls are live; a meter may stop counting at `atMost`. */
export type LiveCallsMeter = (atMost?: number) => Promise<number>;
