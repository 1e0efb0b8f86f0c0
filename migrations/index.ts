import { RecordIntents1796184239671 } from './1796184239671-record-intents';
import { ThrottleCounters1796167045384 } from './1796167045384-throttle-counters';
import { Init1795523155463 } from './1795523155463-init';
import type { MigrationInterface } from 'typeorm';
/** Every migration, in order; the app and the CLI both run this list. */
export const MIGRATIONS: (new () => MigrationInterface)[] = [Init1795523155463, ThrottleCounters1796167045384, RecordIntents1796184239671];
