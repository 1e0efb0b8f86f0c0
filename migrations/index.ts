import { MigrationInterface } from 'typeorm';
import { Init1795523155463 } from './1795523155463-init';
import { ThrottleCounters1796167045384 } from './1796167045384-throttle-counters';
import { SetAside1796182952270 } from './1796182952270-set-aside';
import { IdempotencyKeys1796183277023 } from './1796183277023-idempotency-keys';
import { ReconcileWatermarks1796183578835 } from './1796183578835-reconcile-watermarks';
import { RecordIntents1796184239671 } from './1796184239671-record-intents';
import { HistoryKeysetIndexes1796184587762 } from './1796184587762-history-keyset-indexes';
import { UsageDailyRollups1796185454456 } from './1796185454456-usage-daily-rollups';
import { OneTimelineEntryPerStatus1796186903388 } from './1796186903388-one-timeline-entry-per-status';
import { HangupRequests1796626867808 } from './1796626867808-hangup-requests';
import { CallReports1796626867809 } from './1796626867809-call-reports';
import { PlatformEvents1796627815674 } from './1796627815674-platform-events';
import { RecordMetadata1796627992790 } from './1796627992790-record-metadata';
import { PurchaseIntents1796628097049 } from './1796628097049-purchase-intents';
import { HangupRequestedBy1796628097050 } from './1796628097050-hangup-requested-by';
import { DailyRollupState1796628635913 } from './1796628635913-daily-rollup-state';
import { CallTransferAndVoicemail1796639196989 } from './1796639196989-call-transfer-and-voicemail';
import { Conversations1796639599857 } from './1796639599857-conversations';
import { GuardrailDays1796639602269 } from './1796639602269-guardrail-days';
import { Campaigns1796639709183 } from './1796639709183-campaigns';
import { CallTwimlEnd1796640000000 } from './1796640000000-call-twiml-end';
import { NumberPendingChange1796640187431 } from './1796640187431-number-pending-change';
import { SmsTurns1796651911319 } from './1796651911319-sms-turns';
import { CampaignPacingSlots1797000000000 } from './1797000000000-campaign-pacing-slots';

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
  HangupRequests1796626867808,
  CallReports1796626867809,
  PlatformEvents1796627815674,
  RecordMetadata1796627992790,
  PurchaseIntents1796628097049,
  HangupRequestedBy1796628097050,
  DailyRollupState1796628635913,
  CallTransferAndVoicemail1796639196989,
  Conversations1796639599857,
  GuardrailDays1796639602269,
  Campaigns1796639709183,
  CallTwimlEnd1796640000000,
  NumberPendingChange1796640187431,
  SmsTurns1796651911319,
  CampaignPacingSlots1797000000000,
];
