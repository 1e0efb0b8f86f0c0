import { RecordMetadata1796627992790 } from './1796627992790-record-metadata';
import { OneTimelineEntryPerStatus1796186903388 } from './1796186903388-one-timeline-entry-per-status';
import { UsageDailyRollups1796185454456 } from './1796185454456-usage-daily-rollups';
import { HistoryKeysetIndexes1796184587762 } from './1796184587762-history-keyset-indexes';
import { RecordIntents1796184239671 } from './1796184239671-record-intents';
import { ReconcileWatermarks1796183578835 } from './1796183578835-reconcile-watermarks';
import { IdempotencyKeys1796183277023 } from './1796183277023-idempotency-keys';
import { SetAside1796182952270 } from './1796182952270-set-aside';
import { ThrottleCounters1796167045384 } from './1796167045384-throttle-counters';
import { Init1795523155463 } from './1795523155463-init';
import type { MigrationInterface } from 'typeorm';
/** Every migration, in order; the app and the CLI both run this list. */
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  Init1795523155463,
  ThrottleCounters1796167045384,
  SetAside1796182952270,
  IdempotencyKeys1796183277023,
  ReconcileWatermarks1796183578835,
  RecordIntents1796184239671,
  HistoryKeysetIndexes1796184587762,
  UsageDailyRollups1796185454456,
  OneTimelineEntryPerStatus1796186903388,
  RecordMetadata1796627992790,
];
