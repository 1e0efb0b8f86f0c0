import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { api } from '../webhooks/webhook-helpers';

/** The README's sandbox walk: inbound traffic to the default number reaches the service with no setup. */
describe('the in-process sandbox default number', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  const sandboxPost = (path: string, body: unknown) =>
    fetch(`${t.sandbox.baseUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('is wired to the service webhooks at start: a STOP sent to it opts the sender out', async () => {
    const person = '+14155550142';
    const res = await sandboxPost('/sandbox/inbound/sms', { from: person, to: t.config.twilio.phoneNumber, body: 'STOP' });
    expect(res.status).toBe(201);
    await t.sandbox.settle();
    const sms = await api<{ code: string }>(t, 'POST', '/api/phone/sms', { to: person, message: 'still there?' });
    expect(sms.status).toBe(400);
    expect(sms.body.code).toBe('recipient_opted_out');
  });

  it('answers an inbound call with the greeting and stores the call', async () => {
    const caller = '+14155550143';
    const res = await sandboxPost('/sandbox/inbound/call', { from: caller, to: t.config.twilio.phoneNumber });
    expect(res.status).toBe(201);
    const { sid } = (await res.json()) as { sid: string };
    await t.sandbox.settle();
    const call = t.sandbox.calls().find((c) => c.sid === sid)!;
    expect(call.executed.find((v) => v.verb === 'Say')?.text).toBe(t.config.webhooks.inboundGreeting);
    const stored = await eventually(async () => {
      const got = await api<{ direction: string; from: string }>(t, 'GET', `/api/phone/calls/${sid}`);
      return got.status === 200 ? got.body : null;
    });
    expect(stored).toMatchObject({ direction: 'inbound', from: caller });
  });
});
