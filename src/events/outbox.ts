import type { EventEntity } from './event.entity';

/** An event ready to be written (EventsService.draft): the outbox row but its created_at and relay mark. */
export type EventDraft = Omit<EventEntity, 'createdAt' | 'relayedAt'>;

/** The outbox columns a draft fills, in the order of eventDraftValues. */
const COLUMNS = 'id, type, resource_type, resource_id, resource_sid, occurred_at, payload, created_at';

/**
 * The events table's part of another module's statement, for a change whose event must be written
 * in the very statement that makes it (one round trip, no transaction of its own): the body of a
 * CTE writing the draft bound at `$first`.. (eventDraftValues) once for each row of the CTE
 * `source`, none when it has none. `fromSource` names fields of the payload's `data.object` to take
 * from columns of `source`: values the database assigns as it writes (a sequence number).
 */
export function insertEventFromSql(source: string, first: number, fromSource: Record<string, string> = {}): string {
  const at = (i: number) => `$${first + i}`;
  let payload = `${at(6)}::jsonb`;
  for (const [field, column] of Object.entries(fromSource))
    payload = `jsonb_set(${payload}, '{data,object,${field}}', to_jsonb(${source}.${column}))`;
  return `INSERT INTO events (${COLUMNS})
     SELECT ${at(0)}::uuid, ${at(1)}::varchar, ${at(2)}::varchar, ${at(3)}::uuid, ${at(4)}::varchar, ${at(5)}::timestamptz,
            ${payload}, ${at(5)}::timestamptz
     FROM ${source}`;
}

/** A draft's values for insertEventFromSql, in its placeholders' order. */
export function eventDraftValues(draft: EventDraft): unknown[] {
  return [draft.id, draft.type, draft.resourceType, draft.resourceId, draft.resourceSid, draft.occurredAt, draft.payload];
}
