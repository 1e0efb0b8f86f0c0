import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { AppError } from '../common/app-error';
import { decodeCursor } from '../common/cursor';
import { EventDeliveryService } from './event-delivery.service';
import { EventEntity, type EventBody } from './event.entity';
import type { EventDraft } from './outbox';
import { DeliveryWithAttempts, EventRepository } from './event.repository';
import { EventResource, EventType, eventUuid, publicEventId, type DeliveryState } from './event-types';
import { EventDto, EventListDto, EventListQueryDto, EventPayloadDto, EventReplayDto } from './events.dto';

const DEFAULT_PAGE_SIZE = 20;

/**
 * The platform's events: written by the module that changes something, in its transaction, then
 * delivered (EventDeliveryService); listed and replayed over the API.
 */
@Injectable()
export class EventsService {
  private lastAt = 0;

  constructor(
    private readonly events: EventRepository,
    private readonly delivery: EventDeliveryService,
  ) {}

  /**
   * Records that `resource` went through `type`, within `tx`: the transaction of the change. The
   * event is sent only if that transaction commits, and is kept if it does. `extra` joins `object`
   * in the payload's data (call.completed's outcome).
   */
  async record(tx: EntityManager, type: EventType, resource: EventResource, extra: Record<string, unknown> = {}): Promise<string> {
    const event = this.draft(type, resource, extra);
    await this.events.insert(tx, event);
    return event.payload.id as string;
  }

  /**
   * The event record() writes, for a module that writes it in the statement of its change (see
   * insertEventFromSql): the event then exists exactly when that statement's change does.
   */
  draft(type: EventType, resource: EventResource, extra: Record<string, unknown> = {}): EventDraft {
    const uuid = randomUUID();
    // strictly increasing here, so two events of one change (call.initiated, then call.ringing) keep
    // their order by created_at even within one millisecond
    const occurredAt = new Date((this.lastAt = Math.max(Date.now(), this.lastAt + 1)));
    const payload: EventBody = {
      id: publicEventId(uuid),
      type,
      created_at: occurredAt.toISOString(),
      data: { object: resource.object, ...extra },
    };
    return {
      id: uuid,
      type,
      resourceType: resource.type,
      resourceId: resource.id ?? null,
      resourceSid: resource.sid ?? null,
      occurredAt,
      payload,
    };
  }

  /** The job queue events are delivered with, for modules that have jobs of their own. */
  jobQueue(): Promise<PgBoss> {
    return this.delivery.queue();
  }

  async listEvents(query: EventListQueryDto): Promise<EventListDto> {
    const page = await this.events.listPage(
      { type: query.type, resourceSid: query.resource_sid, deliveryState: query.delivery_state },
      decodeCursor(query.cursor),
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    const deliveries = await this.events.deliveriesOf(page.items.map((e) => e.id));
    return { events: page.items.map((e) => toEventDto(e, deliveries.get(e.id) ?? [])), next_cursor: page.nextCursor };
  }

  async getEvent(id: string): Promise<EventDto> {
    const event = await this.findOrFail(id);
    const deliveries = await this.events.deliveriesOf([event.id]);
    return toEventDto(event, deliveries.get(event.id) ?? []);
  }

  /** Sends the event again to the endpoints that want it, with the same id (new attempts). */
  async replayEvent(id: string): Promise<EventReplayDto> {
    const event = await this.findOrFail(id);
    const { endpointIds } = await this.delivery.replay(event.id);
    return { id: publicEventId(event.id), endpoint_ids: endpointIds };
  }

  private async findOrFail(id: string): Promise<EventEntity> {
    const uuid = eventUuid(id);
    const event = uuid ? await this.events.findById(uuid) : null;
    if (!event) throw AppError.notFound('Event', id);
    return event;
  }
}

function toEventDto(event: EventEntity, deliveries: DeliveryWithAttempts[]): EventDto {
  return {
    id: publicEventId(event.id),
    type: event.type as EventType,
    resource_type: event.resourceType,
    resource_sid: event.resourceSid,
    created_at: event.createdAt,
    payload: event.payload as unknown as EventPayloadDto,
    deliveries: deliveries.map(({ delivery, attempts }) => ({
      endpoint_id: delivery.endpointId,
      state: delivery.state as DeliveryState,
      delivered_at: delivery.deliveredAt,
      attempts: attempts.map((a) => ({
        attempted_at: a.attemptedAt,
        status_code: a.statusCode,
        latency_ms: a.latencyMs,
        response_excerpt: a.responseExcerpt,
        error: a.error,
      })),
    })),
  };
}
