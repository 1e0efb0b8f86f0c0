import { DataSource } from 'typeorm';
import { JsonBody, request } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';

const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A history page shows a record exactly as the single-record endpoint does: the same fields in the
 * same order, timestamps in ISO 8601 UTC to the millisecond (microseconds dropped, not rounded).
 */
describe('history format', () => {
  let t: TestApp;
  let db: DataSource;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    token = t.token(['phone:view']);
  });
  afterAll(() => t?.close());

  async function get(path: string): Promise<JsonBody> {
    const res = await request(t, 'GET', path, { token });
    expect(res.status).toBe(200);
    return res.body;
  }

  /** The single-record answer without the parts only it has, as JSON text (so the key order counts). */
  function single(body: JsonBody, ...only: string[]): string {
    for (const key of only) delete body[key];
    return JSON.stringify(body);
  }

  it('shows a call as GET /calls/{id} does, every timestamp truncated to the millisecond', async () => {
    await db.query(
      `INSERT INTO call_records (sid, direction, from_number, to_number, status, agent_name, workflow_id, metadata, record,
         start_time, end_time, duration_seconds, price, price_unit, hangup_requested_at, hangup_requested_by, voicemail_left_at,
         transfer_to, transfer_status, transfer_requested_at, transfer_requested_by, transfer_duration_seconds, created_at, updated_at)
       VALUES ('CA00000000000000000000000000000001', 'outbound', '+14155550199', '+14155550100', 'completed', 'fmt', 'w1',
         '{"b": "2", "a": "1"}', true,
         '2026-03-01T10:00:01.999999Z', '2026-03-01T10:00:31.000500Z', 30, '-0.0130', 'USD', '2026-03-01T10:00:30.123456Z', 'ops',
         '2026-03-01T10:00:20.5Z', '+14155550111', 'completed', '2026-03-01T10:00:10.000001Z', 'ops', 12,
         '2026-03-01T10:00:00.123999Z', '2026-03-01T10:00:32.987654Z'),
       ('CA00000000000000000000000000000002', 'outbound', '+14155550199', '+14155550100', 'failed', 'fmt', NULL,
         '{}', false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         '+14155550111', NULL, '2026-03-01T10:00:10Z', NULL, NULL, '2026-03-01T09:00:00Z', '2026-03-01T09:00:00.000999Z')`,
    );
    const page = await get('/api/phone/calls/history?agent_name=fmt');
    expect(page.calls).toHaveLength(2);
    const [full, bare] = page.calls;
    expect(full).toMatchObject({
      start_time: '2026-03-01T10:00:01.999Z',
      end_time: '2026-03-01T10:00:31.000Z',
      hangup_requested_at: '2026-03-01T10:00:30.123Z',
      voicemail_left_at: '2026-03-01T10:00:20.500Z',
      transfer: { to: '+14155550111', status: 'completed', requested_at: '2026-03-01T10:00:10.000Z', duration: 12 },
      created_at: '2026-03-01T10:00:00.123Z',
      updated_at: '2026-03-01T10:00:32.987Z',
      price: '-0.01300',
      metadata: { a: '1', b: '2' },
    });
    expect(bare).toMatchObject({
      start_time: null,
      transfer: null,
      created_at: '2026-03-01T09:00:00.000Z',
      updated_at: '2026-03-01T09:00:00.000Z',
    });
    for (const call of page.calls) {
      expect(call.created_at).toMatch(ISO_MILLIS);
      expect(JSON.stringify(call)).toBe(single(await get(`/api/phone/calls/${call.id}`), 'timeline', 'transcript'));
    }
  });

  it('shows a message as GET /sms/{id} does, every timestamp truncated to the millisecond', async () => {
    await db.query(
      `INSERT INTO message_records (sid, direction, from_number, to_number, body, media_urls, status, agent_name, metadata,
         segments, price, price_unit, sent_at, created_at, updated_at)
       VALUES (NULL, 'outbound', '+14155550199', '+14155550100', 'héllo "there"', '["https://example.com/a.png"]', 'failed', 'fmt',
         '{"k": "v"}', 1, '-0.0079', 'USD', '2026-03-01T10:00:02.000999Z', '2026-03-01T10:00:00.999999Z', '2026-03-01T10:00:03.1Z'),
       (NULL, 'inbound', '+14155550100', '+14155550199', 'hi', '[]', 'received', 'fmt', '{}', 1, NULL, NULL, NULL,
         '2026-03-01T09:00:00Z', '2026-03-01T09:00:00Z')`,
    );
    const page = await get('/api/phone/sms/history?agent_name=fmt');
    expect(page.messages).toHaveLength(2);
    expect(page.messages[0]).toMatchObject({
      sent_at: '2026-03-01T10:00:02.000Z',
      created_at: '2026-03-01T10:00:00.999Z',
      updated_at: '2026-03-01T10:00:03.100Z',
      media_urls: ['https://example.com/a.png'],
      price: '-0.00790',
    });
    expect(page.messages[1]).toMatchObject({ sent_at: null, media_urls: [], created_at: '2026-03-01T09:00:00.000Z' });
    for (const message of page.messages) {
      expect(message.updated_at).toMatch(ISO_MILLIS);
      expect(JSON.stringify(message)).toBe(single(await get(`/api/phone/sms/${message.id}`), 'timeline'));
    }
  });
});
