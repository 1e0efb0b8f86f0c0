import { get as httpGet } from 'node:http';
import { DataSource } from 'typeorm';
import { TestApp, startTestApp } from '../support/test-app';

/** Labels a client may well store: quotes, the `", "` jsonb writes between entries, escapes, non-ASCII. */
const METADATA = {
  quote: 'say "hi", "bye"',
  'key with ": "': 'a\\b',
  lines: 'one\ntwo\tthree\u0001',
  ü: 'naïve 😀 \u2028',
};
const MEDIA = ['https://example.com/a.png', 'https://example.com/b", "c.png'];

/**
 * What a history answer is on the wire: compact JSON as the service writes any answer (the same
 * bytes as JSON.stringify of what a client parses), with its JSON content type, an ETag, and
 * labels that come back exactly as stored.
 */
describe('history on the wire', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    token = t.token(['phone:view']);
    const db = t.app.get(DataSource);
    await db.query(
      `INSERT INTO call_records (sid, direction, from_number, to_number, status, agent_name, metadata,
         transfer_to, transfer_status, transfer_requested_at, transfer_whisper, price, created_at, updated_at)
       VALUES ('CA00000000000000000000000000000101', 'outbound', '+14155550199', '+14155550100', 'completed', 'wire', $1,
         '+14155550111', 'completed', '2026-03-01T10:00:10Z', 'it''s "you"', '-0.0130', '2026-03-01T10:00:00Z', '2026-03-01T10:00:00Z'),
       ('CA00000000000000000000000000000102', 'outbound', '+14155550199', '+14155550100', 'failed', 'wire', '{}',
         NULL, NULL, NULL, NULL, NULL, '2026-03-01T09:00:00Z', '2026-03-01T09:00:00Z')`,
      [JSON.stringify(METADATA)],
    );
    await db.query(
      `INSERT INTO message_records (direction, from_number, to_number, body, media_urls, status, agent_name, metadata, segments,
         created_at, updated_at)
       VALUES ('outbound', '+14155550199', '+14155550100', 'x', $1, 'sent', 'wire', $2, 1, '2026-03-01T10:00:00Z', '2026-03-01T10:00:00Z'),
       ('inbound', '+14155550100', '+14155550199', 'y', '[]', 'received', 'wire', '{}', 1, '2026-03-01T09:00:00Z', '2026-03-01T09:00:00Z')`,
      [JSON.stringify(MEDIA), JSON.stringify(METADATA)],
    );
  });
  afterAll(() => t?.close());

  const get = (path: string) => fetch(`${t.baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });

  /** The status of a conditional GET (fetch answers a 304 of its own request as 200, so plain HTTP). */
  const conditionalStatus = (path: string, etag: string) =>
    new Promise<number | undefined>((resolve, reject) => {
      httpGet(`${t.baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}`, 'If-None-Match': etag } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });

  it.each([
    ['calls', '/api/phone/calls/history?agent_name=wire&limit=1'],
    ['messages', '/api/phone/sms/history?agent_name=wire&limit=1'],
  ])('answers %s as compact JSON with its content type and an ETag', async (key, path) => {
    const first = await get(path);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const text = await first.text();
    const body = JSON.parse(text) as Record<string, { metadata: unknown; media_urls?: unknown }[]> & { next_cursor: string };
    expect(text).toBe(JSON.stringify(body));
    expect(Object.keys(body)).toEqual([key, 'next_cursor']);
    expect(body[key][0].metadata).toEqual(METADATA);
    if (key === 'messages') expect(body[key][0].media_urls).toEqual(MEDIA);

    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    expect(await conditionalStatus(path, etag!)).toBe(304);

    const last = await get(`${path}&cursor=${body.next_cursor}`);
    const lastText = await last.text();
    expect(lastText).toBe(JSON.stringify(JSON.parse(lastText)));
    expect(JSON.parse(lastText)).toMatchObject({ [key]: [{ metadata: {} }], next_cursor: null });
  });

  it('shows a transfer whose whisper has quotes as compact JSON', async () => {
    const text = await (await get('/api/phone/calls/history?agent_name=wire&limit=1')).text();
    expect(text).toContain('"transfer":{"to":"+14155550111","whisper":"it\'s \\"you\\"","caller_id":null,"status":"completed"');
    expect(text).toContain('"price":"-0.01300"');
  });

  it('answers a bad cursor with the JSON error shape', async () => {
    const res = await get('/api/phone/calls/history?cursor=nope');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toMatchObject({ statusCode: 400, code: 'validation_failed', details: [{ field: 'cursor' }] });
  });
});
