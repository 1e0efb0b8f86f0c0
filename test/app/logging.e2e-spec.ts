import { Writable } from 'node:stream';
import { maskPhoneNumber } from '../../src/common/phone-number';
import { request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';
import { wireNumber } from '../webhooks/webhook-helpers';

type Line = Record<string, unknown>;

/** Every JSON line the app writes, as a log shipper would read them. */
class Captured extends Writable {
  readonly raw: string[] = [];
  _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  lines(): Line[] {
    return this.raw.map((l) => JSON.parse(l) as Line);
  }
  access(requestId: string): Line[] {
    return this.lines().filter((l) => l.event === 'http_request' && l.request_id === requestId);
  }
}

describe('structured logs', () => {
  let t: TestApp;
  const log = new Captured();
  const person = '+14155550142';

  beforeAll(async () => {
    t = await startTestApp({ LOG_LEVEL: 'info' }, { logDestination: log });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('writes one access line per request with request id, method, route template, status, latency and subject', async () => {
    const token = t.token(['phone:sms', 'phone:view'], 'alice');
    const sent = await request(t, 'POST', '/api/phone/sms', { token, body: { to: person, message: 'the secret plan' } });
    expect(sent.status).toBe(201);
    const sid = sent.body.sid as string;
    const id = sent.headers.get('x-request-id')!;
    const [line, ...more] = await eventually(async () => (log.access(id).length ? log.access(id) : null));
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 'info', method: 'POST', route: '/api/phone/sms', status: 201, subject: 'alice' });
    expect(line.latency_ms).toEqual(expect.any(Number));
    expect(typeof line.time).toBe('string');

    const got = await fetch(`${t.baseUrl}/api/phone/sms/${sid}`, {
      headers: { Authorization: `Bearer ${token}`, 'X-Request-Id': 'trace-42' },
    });
    expect(got.status).toBe(200);
    expect(got.headers.get('x-request-id')).toBe('trace-42');
    const [byId] = await eventually(async () => (log.access('trace-42').length ? log.access('trace-42') : null));
    expect(byId).toMatchObject({ method: 'GET', route: '/api/phone/sms/:sid', status: 200, subject: 'alice', twilio_sid: sid });
  });

  it('logs refused requests too (401, 400, 404), with a fresh id when the incoming one is not sane', async () => {
    const unauthorized = await fetch(`${t.baseUrl}/api/phone/sms/history`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(unauthorized.status).toBe(401);
    const id = unauthorized.headers.get('x-request-id')!;
    expect(id).not.toBe('bad id with spaces');
    const bad = await request(t, 'POST', '/api/phone/sms', { token: t.token(['phone:sms']), body: { to: 'nope', message: 'x' } });
    expect(bad.status).toBe(400);
    const missing = await fetch(`${t.baseUrl}/api/phone/no-such-thing/+14155550100`);
    expect(missing.status).toBe(404);
    await eventually(async () => log.access(missing.headers.get('x-request-id')!).length > 0);
    expect(log.access(id)).toEqual([expect.objectContaining({ route: '/api/phone/sms/history', status: 401 })]);
    expect(log.access(bad.headers.get('x-request-id')!)).toEqual([expect.objectContaining({ status: 400 })]);
    expect(log.access(missing.headers.get('x-request-id')!)).toEqual([expect.objectContaining({ route: 'unmatched', status: 404 })]);
  });

  it('carries the request id on lines logged while serving the request, masks numbers and drops message bodies', async () => {
    await t.sandbox.deliverInboundSms({ from: person, to: await wireNumber(t), body: 'my pin is 4321' });
    await t.sandbox.settle();
    const inner = await eventually(async () => log.lines().find((l) => l.event === 'sms_received'));
    expect(inner.request_id).toEqual(expect.any(String));
    expect(inner).toMatchObject({ from: maskPhoneNumber(person), sid: expect.stringMatching(/^SM/) });
    expect(inner).not.toHaveProperty('body');
    const [access] = log.access(inner.request_id as string);
    expect(access).toMatchObject({ method: 'POST', route: '/api/phone/webhook/sms', status: 200, twilio_sid: inner.sid });
  });

  it('never writes tokens, signatures, message bodies or full phone numbers', async () => {
    const token = t.token(['phone:sms'], 'bob');
    await request(t, 'POST', '/api/phone/sms', { token, body: { to: person, message: 'the secret plan' } });
    await fetch(`${t.baseUrl}/api/phone/sms/history`, { headers: { Authorization: 'Bearer not-a-jwt-at-all', Cookie: 'session=abc123' } });
    await t.sandbox.settle();
    const all = log.raw.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [
      token,
      'not-a-jwt-at-all',
      'session=abc123',
      'the secret plan',
      'my pin is 4321',
      person,
      t.config.twilio.authToken,
    ]) {
      expect(all).not.toContain(secret);
    }
    expect(log.raw.every((l) => l.startsWith('{'))).toBe(true);
  });
});
