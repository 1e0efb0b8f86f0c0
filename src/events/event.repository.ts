import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { Cursor, Page, keysetPage } from '../common/cursor';
import { prepareSql, writeInTransaction } from '../db/guarded-apply';
import { EventAttemptEntity } from './event-attempt.entity';
import { EventDeliveryEntity } from './event-delivery.entity';
import { EventEndpointEntity } from './event-endpoint.entity';
import { EVENT_BODY_KEYS, EventEntity } from './event.entity';
import type { DeliveryState } from './event-types';

/** An event's stored payload as the text sent to endpoints, its keys in the order of EVENT_BODY_KEYS. */
const BODY_TEXT = `json_build_object(${EVENT_BODY_KEYS.map((key) => `'${key}', e.payload->'${key}'`).join(', ')})::text`;

export interface EventFilter {
  type?: string;
  resourceSid?: string;
  deliveryState?: DeliveryState;
}

export interface DeliveryWithAttempts {
  delivery: EventDeliveryEntity;
  attempts: EventAttemptEntity[];
}

/** What one attempt needs: the delivery, its event's id and body as sent, and where to send it. */
export interface DeliveryContext {
  deliveryId: string;
  state: DeliveryState;
  /** The public event id (`evt_…`): webhook-id. */
  eventId: string;
  /** The payload as sent: id, type, created_at, data, in that order. */
  body: string;
  endpoint: Pick<EventEndpointEntity, 'id' | 'url' | 'enabled' | 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>;
}

export interface AttemptResult {
  deliveryId: string;
  /** The delivery's state after the attempt (pending: it will be tried again). */
  state: DeliveryState;
  attemptedAt: Date;
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
}

const INSERT_EVENT = prepareSql(
  'insert_event',
  `INSERT INTO events (id, type, resource_type, resource_id, resource_sid, occurred_at, payload, created_at)
   VALUES (:id, :type, :resource_type, :resource_id, :resource_sid, :occurred_at, :payload, :occurred_at)`,
);

/** An endpoint wants an event: it is enabled and lists the type or `*`. */
const WANTS = `ep.enabled AND ('*' = ANY(ep.event_types) OR e.type = ANY(ep.event_types))`;

@Injectable()
export class EventRepository {
  constructor(
    @InjectRepository(EventEntity) private readonly events: Repository<EventEntity>,
    @InjectRepository(EventDeliveryEntity) private readonly deliveries: Repository<EventDeliveryEntity>,
    @InjectRepository(EventAttemptEntity) private readonly attempts: Repository<EventAttemptEntity>,
  ) {}

  /** Writes the event within `tx`, the transaction of the change it tells about (with its COMMIT where it can). */
  insert(tx: EntityManager, event: Omit<EventEntity, 'createdAt' | 'relayedAt'>): Promise<void> {
    return writeInTransaction(tx, INSERT_EVENT, {
      id: event.id,
      type: event.type,
      resource_type: event.resourceType,
      resource_id: event.resourceId,
      resource_sid: event.resourceSid,
      occurred_at: event.occurredAt,
      payload: event.payload,
    });
  }

  /**
   * Turns up to `limit` committed events no relay has taken into one delivery per wanting endpoint,
   * in one transaction with `enqueue` (which queues the new deliveries' jobs): events locked by
   * another instance are skipped, and a delivery exists once per (event, endpoint) whatever happens.
   * Returns how many events were relayed.
   */
  async relay(limit: number, enqueue: (tx: EntityManager, deliveryIds: string[]) => Promise<void>): Promise<number> {
    return this.events.manager.transaction(async (tx) => {
      const claimed = await tx.query<{ id: string }[]>(
        'SELECT id FROM events WHERE relayed_at IS NULL ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [limit],
      );
      if (!claimed.length) return 0;
      const ids = claimed.map((row) => row.id);
      const created = await tx.query<{ id: string }[]>(
        `INSERT INTO event_deliveries (event_id, endpoint_id)
         SELECT e.id, ep.id FROM events e JOIN event_endpoints ep ON ${WANTS}
         WHERE e.id = ANY($1)
         ORDER BY e.created_at, e.id
         ON CONFLICT (event_id, endpoint_id) DO NOTHING
         RETURNING id`,
        [ids],
      );
      await tx.query('UPDATE events SET relayed_at = now() WHERE id = ANY($1)', [ids]);
      if (created.length)
        await enqueue(
          tx,
          created.map((row) => row.id),
        );
      return ids.length;
    });
  }

  /**
   * Sends the event again: its deliveries to enabled endpoints go back to pending, and endpoints
   * that want it but never had it get a delivery; in one transaction with `enqueue`. Returns the
   * endpoints, none when no enabled endpoint wants the event.
   */
  async replay(eventId: string, enqueue: (tx: EntityManager, deliveryIds: string[]) => Promise<void>): Promise<{ endpointIds: string[] }> {
    return this.events.manager.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO event_deliveries (event_id, endpoint_id)
         SELECT e.id, ep.id FROM events e JOIN event_endpoints ep ON ${WANTS} WHERE e.id = $1
         ON CONFLICT (event_id, endpoint_id) DO NOTHING`,
        [eventId],
      );
      const [rows] = await tx.query<[{ id: string; endpoint_id: string }[], number]>(
        `UPDATE event_deliveries d SET state = 'pending', delivered_at = NULL, updated_at = now()
         FROM event_endpoints ep WHERE d.event_id = $1 AND ep.id = d.endpoint_id AND ep.enabled
         RETURNING d.id, d.endpoint_id`,
        [eventId],
      );
      if (rows.length)
        await enqueue(
          tx,
          rows.map((row) => row.id),
        );
      return { endpointIds: rows.map((row) => row.endpoint_id) };
    });
  }

  /**
   * What a batch of attempts needs, in one read whatever the batch size; ids without one are left
   * out. The body is built here: jsonb keeps no key order, and a json object keeps the order it is
   * built in (the payload holds these four keys, see EventsService.record).
   */
  async deliveryContexts(deliveryIds: string[]): Promise<Map<string, DeliveryContext>> {
    const contexts = new Map<string, DeliveryContext>();
    if (!deliveryIds.length) return contexts;
    const found = await this.events.query<
      {
        delivery_id: string;
        state: DeliveryState;
        event_id: string;
        body: string;
        endpoint_id: string;
        url: string;
        enabled: boolean;
        secret: string;
        previous_secret: string | null;
        previous_secret_expires_at: Date | null;
      }[]
    >(
      `SELECT d.id AS delivery_id, d.state, e.payload->>'id' AS event_id,
         ${BODY_TEXT} AS body,
         ep.id AS endpoint_id, ep.url, ep.enabled, ep.secret, ep.previous_secret, ep.previous_secret_expires_at
       FROM event_deliveries d JOIN events e ON e.id = d.event_id JOIN event_endpoints ep ON ep.id = d.endpoint_id
       WHERE d.id = ANY($1::uuid[])`,
      [deliveryIds],
    );
    for (const row of found) {
      contexts.set(row.delivery_id, {
        deliveryId: row.delivery_id,
        state: row.state,
        eventId: row.event_id,
        body: row.body,
        endpoint: {
          id: row.endpoint_id,
          url: row.url,
          enabled: row.enabled,
          secret: row.secret,
          previousSecret: row.previous_secret,
          previousSecretExpiresAt: row.previous_secret_expires_at,
        },
      });
    }
    return contexts;
  }

  /**
   * Stores a batch of attempts, each moving its delivery to its state, and ends the run of failures
   * of the endpoints in `answered` (they took a delivery), in one statement.
   */
  async recordAttempts(attempts: AttemptResult[], answered: string[]): Promise<void> {
    if (!attempts.length && !answered.length) return;
    await this.events.query(
      `WITH attempt AS (
         SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[])
           AS a(delivery_id, state, attempted_at, status_code, latency_ms, response_excerpt, error)
       ), stored AS (
         INSERT INTO event_attempts (delivery_id, attempted_at, status_code, latency_ms, response_excerpt, error)
         SELECT delivery_id, attempted_at, status_code, latency_ms, response_excerpt, error FROM attempt
       ), healthy AS (
         UPDATE event_endpoints SET consecutive_failures = 0, failing_since = NULL
         WHERE id = ANY($8::uuid[]) AND (consecutive_failures > 0 OR failing_since IS NOT NULL)
       )
       UPDATE event_deliveries d SET attempts = d.attempts + 1, state = a.state, updated_at = now(),
         delivered_at = CASE WHEN a.state = 'delivered' THEN a.attempted_at ELSE d.delivered_at END
       FROM attempt a WHERE d.id = a.delivery_id`,
      [
        attempts.map((a) => a.deliveryId),
        attempts.map((a) => a.state),
        attempts.map((a) => a.attemptedAt),
        attempts.map((a) => a.statusCode),
        attempts.map((a) => a.latencyMs),
        attempts.map((a) => a.responseExcerpt),
        attempts.map((a) => a.error),
        answered,
      ],
    );
  }

  /** Marks a delivery failed without an attempt (its endpoint was disabled or deleted meanwhile). */
  async failDelivery(deliveryId: string): Promise<void> {
    await this.deliveries.update({ id: deliveryId, state: 'pending' }, { state: 'failed' });
  }

  findById(id: string): Promise<EventEntity | null> {
    return this.events.findOne({ where: { id } });
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  listPage(filter: EventFilter, cursor: Cursor | null, limit: number): Promise<Page<EventEntity>> {
    const q = this.events.createQueryBuilder('e');
    if (filter.type) q.andWhere('e.type = :type', { type: filter.type });
    if (filter.resourceSid) q.andWhere('e.resource_sid = :resourceSid', { resourceSid: filter.resourceSid });
    if (filter.deliveryState) {
      q.andWhere('EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = e.id AND d.state = :deliveryState)', {
        deliveryState: filter.deliveryState,
      });
    }
    return keysetPage(q, cursor, limit);
  }

  /** The deliveries of `eventIds` with their attempts (oldest first), by event id. */
  async deliveriesOf(eventIds: string[]): Promise<Map<string, DeliveryWithAttempts[]>> {
    const result = new Map<string, DeliveryWithAttempts[]>();
    if (!eventIds.length) return result;
    const deliveries = await this.deliveries.find({ where: { eventId: In(eventIds) }, order: { createdAt: 'ASC', id: 'ASC' } });
    const attempts = deliveries.length
      ? await this.attempts.find({ where: { deliveryId: In(deliveries.map((d) => d.id)) }, order: { attemptedAt: 'ASC', id: 'ASC' } })
      : [];
    for (const delivery of deliveries) {
      const list = result.get(delivery.eventId) ?? [];
      list.push({ delivery, attempts: attempts.filter((a) => a.deliveryId === delivery.id) });
      result.set(delivery.eventId, list);
    }
    return result;
  }
}
