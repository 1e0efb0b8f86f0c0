/**
 * Bulk-loading SQL for the benchmark data set: rows shaped exactly as the service writes them
 * (sids CA/SM + 32 hex, E.164 numbers, statuses from the enums, microsecond timestamps spread over
 * 90 days, prices as negative numerics like Twilio reports them). `$1` and `$2` are the first and
 * last row number of a chunk, so a chunk is one INSERT ... SELECT generate_series; `$3` is the
 * number of rows in all.
 */

/** Twilio's sid shape: a two-letter prefix and 32 hex digits, unique per row number. */
const sid = (prefix: string, salt: string) => `'${prefix}' || md5('${salt}' || i::text)`;

/** 10,000 customer numbers in 5 US area codes (repeat customers), and 8 of our own numbers. */
const CUSTOMER = `'+1' || (ARRAY['415','212','312','646','718'])[1 + ((i / 7) % 5)] || '555' || lpad(((i::bigint * 7919) % 2000)::text, 4, '0')`;
const OURS = `'+1415555' || lpad((100 + (i % 8))::text, 4, '0')`;

/**
 * 12 agents, 40 workflows, 90 days of creation times (microsecond precision, like now()). Row
 * numbers follow time, as rows a service writes do: the rows of one day lie together on disk, not
 * scattered over the whole table (which would make every day's scan read a page per row).
 */
const AGENT = `CASE WHEN i % 10 = 0 THEN NULL ELSE 'agent-' || (i % 12) END`;
const CREATED = `now() - interval '90 days' * (1 - i::float8 / $3::int) - random() * interval '10 minutes'`;

/** Weighted call statuses: most calls end completed; a few of the last quarter hour's are still in flight. */
const CALL_STATUS = `(CASE WHEN r < 0.70 THEN 'completed' WHEN r < 0.80 THEN 'no-answer' WHEN r < 0.86 THEN 'busy'
  WHEN r < 0.90 THEN 'failed' WHEN r < 0.93 THEN 'canceled' WHEN created_at < now() - interval '15 minutes' THEN 'completed'
  WHEN r < 0.96 THEN 'in-progress' WHEN r < 0.98 THEN 'ringing' ELSE 'queued' END)`;

export const CALLS_SQL = `
INSERT INTO call_records (id, sid, direction, from_number, to_number, status, status_sequence, message, voice, language,
  record, machine_detection, timeout_seconds, agent_name, call_purpose, workflow_id, created_by, start_time, end_time,
  duration_seconds, price, price_unit, answered_by, queue_time_ms, error_code, error_message, synced_at, created_at, updated_at)
SELECT gen_random_uuid(), sid, direction, from_number, to_number, status,
  CASE WHEN status IN ('queued') THEN -1 WHEN status IN ('ringing') THEN 1 WHEN status = 'in-progress' THEN 2 ELSE 3 END,
  CASE WHEN direction = 'outbound' THEN 'Hello, this is a reminder about your appointment number ' || i END,
  CASE WHEN direction = 'outbound' THEN 'alice' END, CASE WHEN direction = 'outbound' THEN 'en-US' END,
  i % 7 = 0, i % 11 = 0, CASE WHEN direction = 'outbound' THEN 30 END,
  CASE WHEN direction = 'outbound' THEN agent END, CASE WHEN direction = 'outbound' THEN 'reminder' END,
  CASE WHEN direction = 'outbound' AND i % 4 <> 0 THEN 'wf-' || (i % 40) END,
  CASE WHEN direction = 'outbound' THEN 'bench-user-' || (i % 5) END,
  CASE WHEN status IN ('completed', 'in-progress') THEN created_at + interval '3 seconds' END,
  CASE WHEN status = 'completed' THEN created_at + interval '3 seconds' + duration * interval '1 second' END,
  CASE WHEN status = 'completed' THEN duration END,
  CASE WHEN status = 'completed' THEN -round((ceil(duration / 60.0) * 0.0085)::numeric, 5) END,
  CASE WHEN status = 'completed' THEN 'USD' END,
  CASE WHEN i % 11 = 0 AND status = 'completed' THEN 'human' END,
  CASE WHEN direction = 'outbound' THEN 100 + (i % 900) END,
  CASE WHEN status = 'failed' THEN 32009 END, CASE WHEN status = 'failed' THEN 'Bad number' END,
  CASE WHEN status IN ('completed', 'busy', 'no-answer', 'failed', 'canceled') THEN created_at + interval '5 minutes' END,
  created_at, created_at + interval '4 seconds'
FROM (
  SELECT i, ${sid('CA', 'call-')} AS sid,
    CASE WHEN i % 5 = 0 THEN 'inbound' ELSE 'outbound' END AS direction,
    CASE WHEN i % 5 = 0 THEN ${CUSTOMER} ELSE ${OURS} END AS from_number,
    CASE WHEN i % 5 = 0 THEN ${OURS} ELSE ${CUSTOMER} END AS to_number,
    ${AGENT} AS agent, ${CREATED} AS created_at, 5 + (i * 37) % 600 AS duration, random() AS r
  FROM generate_series($1::int, $2::int) AS i
) AS s, LATERAL (SELECT ${CALL_STATUS} AS status) AS st`;

const MESSAGE_STATUS = `(CASE WHEN direction = 'inbound' THEN 'received'
  WHEN r < 0.82 THEN 'delivered' WHEN r < 0.88 THEN 'sent' WHEN r < 0.93 THEN 'undelivered' WHEN r < 0.96 THEN 'failed'
  WHEN created_at < now() - interval '15 minutes' THEN 'delivered' WHEN r < 0.98 THEN 'sending' ELSE 'queued' END)`;

export const MESSAGES_SQL = `
INSERT INTO message_records (id, sid, direction, from_number, to_number, body, segments, media_urls, status, agent_name,
  created_by, error_code, error_message, price, price_unit, sent_at, synced_at, created_at, updated_at)
SELECT gen_random_uuid(), sid, direction, from_number, to_number, body, segments,
  CASE WHEN i % 50 = 0 THEN jsonb_build_array('https://example.com/media/' || i || '.png') ELSE '[]'::jsonb END,
  status, CASE WHEN direction = 'outbound' THEN agent END,
  CASE WHEN direction = 'outbound' THEN 'bench-user-' || (i % 5) END,
  CASE WHEN status IN ('undelivered', 'failed') THEN 30003 END,
  CASE WHEN status IN ('undelivered', 'failed') THEN 'Unreachable destination handset' END,
  CASE WHEN status IN ('delivered', 'sent', 'undelivered', 'received') THEN -round((segments * 0.0075)::numeric, 5) END,
  CASE WHEN status IN ('delivered', 'sent', 'undelivered', 'received') THEN 'USD' END,
  CASE WHEN status IN ('delivered', 'sent', 'undelivered') THEN created_at + interval '2 seconds' END,
  CASE WHEN status NOT IN ('sending', 'queued') THEN created_at + interval '5 minutes' END,
  created_at, created_at + interval '3 seconds'
FROM (
  SELECT i, ${sid('SM', 'sms-')} AS sid,
    CASE WHEN i % 4 = 0 THEN 'inbound' ELSE 'outbound' END AS direction,
    CASE WHEN i % 4 = 0 THEN ${CUSTOMER} ELSE ${OURS} END AS from_number,
    CASE WHEN i % 4 = 0 THEN ${OURS} ELSE ${CUSTOMER} END AS to_number,
    CASE WHEN i % 9 = 0 THEN repeat('Your order ' || i || ' has shipped and will arrive tomorrow between 9 and 5. ', 3)
         ELSE 'Reminder: your appointment ' || i || ' is tomorrow at ' || (8 + i % 10) || ':00. Reply STOP to opt out.' END AS body,
    CASE WHEN i % 9 = 0 THEN 2 ELSE 1 END AS segments,
    ${AGENT} AS agent, ${CREATED} AS created_at, random() AS r
  FROM generate_series($1::int, $2::int) AS i
) AS s, LATERAL (SELECT ${MESSAGE_STATUS} AS status) AS st`;

/** What a fresh seed empties first, so a run starts from the same state. */
/** Empties what the service derived from earlier rows too: their daily rollups are rebuilt from the new ones. */
export const RESET_SQL =
  'TRUNCATE call_records, message_records, status_events, webhook_events, recordings, call_daily_stats, message_daily_stats, daily_rollup_state';
