import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageLimit } from '../common/history-query.dto';
import { CALL_OUTCOMES, DELIVERY_STATES, EVENT_TYPES, type DeliveryState, type EventType } from './event-types';

/** Filters and paging for the events sent (or being sent) to endpoints. */
export class EventListQueryDto {
  /**
   * Page size, 1 to 100 (default 20).
   * @example 20
   */
  @PageLimit(100)
  limit?: number;

  /** The `next_cursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  /** Only events of this type. */
  @ApiProperty({ enum: EVENT_TYPES, enumName: 'EventType', required: false })
  @IsOptional()
  @IsIn(EVENT_TYPES)
  type?: EventType;

  /**
   * Only events about this resource (a call or message sid, a number's sid).
   * @example "CA0123456789abcdef0123456789abcdef"
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9+]{2,64}$/, { message: 'resource_sid must be a sid' })
  resource_sid?: string;

  /** Only events with a delivery in this state. */
  @ApiProperty({ enum: DELIVERY_STATES, enumName: 'DeliveryState', required: false })
  @IsOptional()
  @IsIn(DELIVERY_STATES)
  delivery_state?: DeliveryState;
}

export class EventIdParamsDto {
  /** The event's id. */
  @Matches(/^evt_[0-9a-f]{32}$/, { message: 'id must be an event id (evt_ and 32 hex digits)' })
  id: string;
}

/** One POST of a delivery. */
export class EventAttemptDto {
  attempted_at: Date;
  /** The endpoint's HTTP status; null when no answer came. */
  status_code: number | null;
  latency_ms: number;
  /** The first 500 bytes of the answer. */
  response_excerpt: string | null;
  /** Why no answer came, or why it was not a success. */
  error: string | null;
}

/** The event to one endpoint. */
export class EventDeliveryDto {
  endpoint_id: string;
  /** pending (being tried), delivered (a 2xx came back) or failed (every retry failed). @example delivered */
  @ApiProperty({ enum: DELIVERY_STATES, enumName: 'DeliveryState' })
  state: DeliveryState;
  delivered_at: Date | null;
  attempts: EventAttemptDto[];
}

/** What an event carries: the resource as the API returns it, and for call.completed the outcome. */
export class EventDataDto {
  /** The call, message, phone number, recording or opt-out, as the API returns it. */
  @ApiProperty({ type: 'object', additionalProperties: true })
  object: Record<string, unknown>;

  /** How the call ended (call.completed only). */
  @ApiProperty({ enum: CALL_OUTCOMES, enumName: 'CallOutcome', required: false })
  outcome?: string;
}

/**
 * The body POSTed to an endpoint, signed as Standard Webhooks says: `webhook-id` is the event id,
 * the same on every retry and replay.
 */
export class EventPayloadDto {
  /** @example "evt_0b8e1f7c2d4a4e6f8a9b0c1d2e3f4a5b" */
  id: string;
  /**
   * What happened. `number.purchase_failed`: a purchase answered 202 (Twilio's answer was lost) that
   * the numbers sync found had not bought the number; the number is told with status `failed`. A
   * purchase Twilio refuses is answered with the error and stores nothing, so no event tells it.
   * @example call.completed
   */
  @ApiProperty({ enum: EVENT_TYPES, enumName: 'EventType' })
  type: EventType;
  /** When the change happened. */
  created_at: string;
  data: EventDataDto;
}

/** An event, its payload and where it went. */
export class EventDto {
  /** @example "evt_0b8e1f7c2d4a4e6f8a9b0c1d2e3f4a5b" */
  id: string;
  /** What happened. @example call.completed */
  @ApiProperty({ enum: EVENT_TYPES, enumName: 'EventType' })
  type: EventType;
  /** call, message, phone_number, recording or opt_out. */
  resource_type: string;
  resource_sid: string | null;
  created_at: Date;
  /** Exactly the body each endpoint receives. */
  payload: EventPayloadDto;
  deliveries: EventDeliveryDto[];
}

export class EventListDto {
  events: EventDto[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

/** What a replay queued. */
export class EventReplayDto {
  /** @example "evt_0b8e1f7c2d4a4e6f8a9b0c1d2e3f4a5b" */
  id: string;
  /** The endpoints the event is being sent to again. */
  endpoint_ids: string[];
}
