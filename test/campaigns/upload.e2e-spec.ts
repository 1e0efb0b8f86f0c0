import { fieldsOf, request, type JsonBody } from '../support/http';
import { startTestApp, type TestApp } from '../support/test-app';

const later = () => new Date(Date.now() + 3600_000).toISOString();
const CSV = 'to,first_name\n+14155557501,Ann\n+14155557502,"Bob, Jr."\nnot a number,Cy\n';

describe('campaign recipients uploaded as CSV', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ CAMPAIGN_ACCOUNT_CALLS_PER_SECOND: '2' });
    token = t.token(['phone:call', 'phone:sms', 'phone:view']);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  async function send(path: string, body: BodyInit, contentType?: string): Promise<{ status: number; body: JsonBody }> {
    const res = await fetch(`${t.baseUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, ...(contentType ? { 'Content-Type': contentType } : {}) },
      body,
    });
    return { status: res.status, body: await res.json() };
  }

  async function rows(id: string): Promise<JsonBody[]> {
    return (await request(t, 'GET', `/api/phone/campaigns/${id}/recipients`, { token })).body.recipients;
  }

  function expectImported(reply: { status: number; body: JsonBody }) {
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body.import_report).toMatchObject({ total: 3, accepted: 2, skipped_by_reason: { invalid_number: 1 } });
  }

  it('takes multipart/form-data: the CSV file in recipients, the other fields as one JSON field campaign', async () => {
    const form = new FormData();
    form.set('campaign', JSON.stringify({ name: 'Form JSON', message: 'Hi {{first_name}}', start_at: later(), pacing: { per_second: 2 } }));
    form.set('recipients', new Blob([CSV], { type: 'text/csv' }), 'people.csv');
    const reply = await send('/api/phone/campaigns', form);
    expectImported(reply);
    expect(reply.body.pacing.per_second).toBe(2);
    expect((await rows(reply.body.id))[1]).toMatchObject({ to: '+14155557502', variables: { first_name: 'Bob, Jr.' } });
  });

  it('takes multipart/form-data with the other fields as form fields (objects as JSON), and dry_run', async () => {
    const form = new FormData();
    form.set('name', 'Form fields');
    form.set('sms_body', 'Hi {{first_name}}');
    form.set('calling_window', JSON.stringify({ start: '10:00', end: '18:00' }));
    form.set('recipients', new Blob([CSV]), 'people.csv');
    const dry = await send('/api/phone/campaigns?dry_run=true', form);
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.import_report).toMatchObject({ total: 3, accepted: 2 });
    expect(dry.body.estimated_cost.first_attempts).toBeDefined();
    form.set('start_at', later());
    const created = await send('/api/phone/campaigns', form);
    expectImported(created);
    expect(created.body).toMatchObject({ channel: 'sms', calling_window: { start: '10:00', end: '18:00' } });
  });

  it('takes a text/csv body with the other fields as query parameters', async () => {
    const query = new URLSearchParams({ name: 'CSV body', message: 'Hi {{first_name}}', start_at: later(), pacing: '{"max_live":3}' });
    const reply = await send(`/api/phone/campaigns?${query.toString()}`, CSV, 'text/csv; charset=utf-8');
    expectImported(reply);
    expect(reply.body.pacing.max_live).toBe(3);
    expect((await rows(reply.body.id))[0]).toMatchObject({ to: '+14155557501', variables: { first_name: 'Ann' } });
  });

  it('answers 400 naming the problem and 415 for another body type', async () => {
    const form = new FormData();
    form.set('campaign', '{"name": ');
    form.set('recipients', new Blob([CSV]), 'people.csv');
    const broken = await send('/api/phone/campaigns', form);
    expect([broken.status, fieldsOf(broken.body)]).toEqual([400, ['campaign']]);

    const both = new FormData();
    both.set('campaign', JSON.stringify({ name: 'x', message: 'Hi', recipients: [{ to: '+14155557503' }] }));
    both.set('recipients', new Blob([CSV]), 'people.csv');
    const twice = await send('/api/phone/campaigns', both);
    expect([twice.status, fieldsOf(twice.body)]).toEqual([400, ['recipients', 'recipients_csv']]);

    const badPacing = await send(`/api/phone/campaigns?name=x&message=Hi&pacing=fast`, CSV, 'text/csv');
    expect([badPacing.status, fieldsOf(badPacing.body)]).toEqual([400, ['pacing']]);

    const xml = await send('/api/phone/campaigns', '<campaign/>', 'application/xml');
    expect(xml.status).toBe(415);
    expect(xml.body).toMatchObject({ statusCode: 415, code: 'unsupported_media_type', request_id: expect.any(String) });
    expect(xml.body.message).toContain('application/xml');
  });
});
