import { CallRecordEntity } from './call-record.entity';
import { MessageRecordEntity } from './message-record.entity';
import { OptOutEntity } from './opt-out.entity';
import { PhoneNumberEntity } from './phone-number.entity';
import { RecordingEntity } from './recording.entity';
import { StatusEventEntity } from './status-event.entity';
import { WebhookEventEntity } from './webhook-event.entity';
import { ThrottleCounterEntity } from '../throttling/throttle-counter.entity';

export const ENTITIES = [
  CallRecordEntity,
  MessageRecordEntity,
  PhoneNumberEntity,
  WebhookEventEntity,
  StatusEventEntity,
  RecordingEntity,
  OptOutEntity,
  ThrottleCounterEntity,
];
