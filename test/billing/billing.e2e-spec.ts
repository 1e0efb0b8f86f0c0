import { parseMoney } from '../../src/common/money';
import { UsageRollupService } from '../../src/billing/usage-rollup.service';
import { CallRecordEntity } from '../../src/calls/call-record.entity';
import { CallRecordRepository } from '../../src/calls/call-record.repository';
import { MessageRecordEntity } from '../../src/sms/message-record.entity';
import { MessageRecordRepository } from '../../src/sms/message-record.repository';
import { JsonBody, fieldsOf, request } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';

type Body = Record<string, JsonBody>;

let serial = 0;
const sid = (prefix: 'CA' | 'SM') => `${prefix}${(++serial).toString(16).padStart(32, '0')}`;

function addCall(t: TestApp, at: string, fields: Partial<CallRecordEntity>) {
  return t.app.get(CallRecordRepository).insert({
    sid: sid('CA'),
    direction: 'outbound',
    fromNumber: '+14155550199',
    toNumber: '+14155551234',
    status: 'completed',
    createdAt: new Date(at),
    ...fields,
  });
}

function addMessage(t: TestApp, at: string, fields: Partial<MessageRecordEntity>) {
  return t.app.get(MessageRecordRepository).insert({
    sid: sid('SM'),
    direction: 'outbound',
    fromNumber: '+14155550199',
    toNumber: '+14155551234',
    body: 'hello',
    status: 'delivered',
    segments: 1,
    mediaUrls: [],
    createdAt: new Date(at),
    ...fields,
  });
}

describe('billing', () => {
  let t: TestApp;
  let view: string;

  beforeAll(async () => {
    t = await startTestApp();
    view = t.token(['phone:view']);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('GET /api/phone/balance', () => {
    it('works as the guide writes it', async () => {
      const res = await request(t, 'GET', '/api/phone/balance', { token: view });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ balance: expect.stringMatching(/^-?\d+\.\d{2,5}$/), currency: 'USD' });
    });

    it('drops by the monthly number price ($1.00) after a purchase', async () => {
      const before = (await request(t, 'GET', '/api/phone/balance', { token: view })).body.balance;
      const bought = await request(t, 'POST', '/api/phone/numbers/purchase', {
        token: t.token(['phone:admin']),
        body: { phone_number: '+14155550123', friendly_name: 'Samsaek Main Line', webhook_url: 'https://yourdomain.com/api/phone/webhook' },
      });
      expect(bought.status).toBe(201);
      const after = (await request(t, 'GET', '/api/phone/balance', { token: view })).body.balance;
      expect(parseMoney(before) - parseMoney(after)).toBe(parseMoney('1.00'));
    });

    it('answers 502 in the error shape when Twilio fails', async () => {
      t.sandbox.setFaults({ serverError: 1 });
      try {
        const res = await request(t, 'GET', '/api/phone/balance', { token: view });
        expect(res.status).toBe(502);
        expect(res.body).toMatchObject({ statusCode: 502, code: 'twilio_unavailable' });
      } finally {
        t.sandbox.setFaults({});
      }
    });
  });

  describe('GET /api/phone/stats', () => {
    it('works as the guide writes it: the last 30 days, in the documented shape', async () => {
      const res = await request(t, 'GET', '/api/phone/stats', { token: view });
      expect(res.status).toBe(200);
      const since = new Date(res.body.period.since).getTime();
      const until = new Date(res.body.period.until).getTime();
      expect(until - since).toBe(30 * 86_400_000);
      expect(Math.abs(until - Date.now())).toBeLessThan(60_000);
      expect(res.body).toMatchObject({
        calls: {
          total: expect.any(Number),
          by_status: expect.any(Object),
          by_direction: { inbound: expect.any(Number), outbound: expect.any(Number) },
          billable_minutes: expect.any(Number),
        },
        sms: {
          outbound: expect.any(Number),
          inbound: expect.any(Number),
          segments_outbound: expect.any(Number),
          segments_inbound: expect.any(Number),
        },
        numbers_owned: expect.any(Number),
        cost: {
          actual: { calls: expect.any(String), sms: expect.any(String), total: expect.any(String), currency: 'USD' },
          estimated: {
            calls: expect.any(String),
            sms: expect.any(String),
            numbers: expect.any(String),
            total: expect.any(String),
            currency: 'USD',
          },
          unpriced_calls: expect.any(Number),
          unpriced_messages: expect.any(Number),
        },
        daily: expect.any(Array),
      });
      // the guide number bought above; the sandbox's default number once a list has reconciled it
      expect(res.body.numbers_owned).toBe(1);
      expect(res.body.cost.estimated.numbers).toBe('1.00000');
      const listed = await request(t, 'GET', '/api/phone/numbers', { token: view });
      expect(listed.body.numbers).toHaveLength(2);
      const again = await request(t, 'GET', '/api/phone/stats', { token: view });
      expect(again.body.numbers_owned).toBe(2);
      expect(again.body.cost.estimated.numbers).toBe('2.00000');
    });

    it('aggregates stored calls and messages of a period, by status, direction and UTC day, with exact money', async () => {
      await addCall(t, '2026-01-10T10:00:00Z', { durationSeconds: 61, price: '-0.01700', priceUnit: 'USD' });
      await addCall(t, '2026-01-10T23:59:59Z', { direction: 'inbound', durationSeconds: 60, price: '-0.00850', priceUnit: 'USD' });
      await addCall(t, '2026-01-11T01:00:00Z', { durationSeconds: 0, price: '0.00000', priceUnit: 'USD' });
      await addCall(t, '2026-01-12T05:00:00Z', { status: 'busy', durationSeconds: 5 });
      await addCall(t, '2026-01-12T06:00:00Z', { status: 'in-progress' });
      // outside [since, until)
      await addCall(t, '2026-01-09T23:59:59Z', { durationSeconds: 600, price: '-0.08500' });
      await addCall(t, '2026-01-13T00:00:00Z', { durationSeconds: 600, price: '-0.08500' });
      await addMessage(t, '2026-01-10T12:00:00Z', { segments: 2, price: '-0.01500', priceUnit: 'USD' });
      await addMessage(t, '2026-01-11T12:00:00Z', {
        direction: 'inbound',
        status: 'received',
        segments: 1,
        price: '-0.00750',
        priceUnit: 'USD',
      });
      await addMessage(t, '2026-01-11T13:00:00Z', { status: 'queued', segments: 1 });
      await addMessage(t, '2026-01-13T00:00:01Z', { segments: 5, price: '-0.03750' });

      await t.app.get(UsageRollupService).refresh(); // records written straight to the table: take them in now
      const res = await request(t, 'GET', '/api/phone/stats?since=2026-01-10T00:00:00Z&until=2026-01-13T00:00:00Z', { token: view });
      expect(res.status).toBe(200);
      expect(res.body.period).toEqual({ since: '2026-01-10T00:00:00.000Z', until: '2026-01-13T00:00:00.000Z' });
      expect(res.body.calls).toEqual({
        total: 5,
        by_status: { completed: 3, busy: 1, 'in-progress': 1 },
        by_direction: { inbound: 1, outbound: 4 },
        billable_minutes: 3,
      });
      expect(res.body.sms).toEqual({ outbound: 2, inbound: 1, segments_outbound: 3, segments_inbound: 1 });
      const owned = res.body.numbers_owned as number;
      expect(res.body.cost).toEqual({
        actual: { calls: '0.02550', sms: '0.02250', total: '0.04800', currency: 'USD' },
        estimated: {
          calls: '0.02550', // 3 min × 0.0085
          sms: '0.03000', // 4 segments × 0.0075
          numbers: `${(owned / 10).toFixed(5)}`, // owned × 1.00 × 3/30 months
          total: expect.any(String),
          currency: 'USD',
        },
        unpriced_calls: 2,
        unpriced_messages: 1,
      });
      expect(parseMoney(res.body.cost.estimated.total)).toBe(parseMoney('0.05550') + parseMoney(res.body.cost.estimated.numbers));
      expect(res.body.daily).toEqual([
        { date: '2026-01-10', calls: 2, billable_minutes: 3, sms_outbound: 1, sms_inbound: 0, segments: 2, cost_actual: '0.04050' },
        { date: '2026-01-11', calls: 1, billable_minutes: 0, sms_outbound: 1, sms_inbound: 1, segments: 2, cost_actual: '0.00750' },
        { date: '2026-01-12', calls: 2, billable_minutes: 0, sms_outbound: 0, sms_inbound: 0, segments: 0, cost_actual: '0.00000' },
      ]);
    });

    it('sums prices without float error', async () => {
      await addCall(t, '2026-02-01T10:00:00Z', { durationSeconds: 30, price: '-0.10000' });
      await addCall(t, '2026-02-01T11:00:00Z', { durationSeconds: 30, price: '-0.20000' });
      await t.app.get(UsageRollupService).refresh(); // records written straight to the table: take them in now
      const res = await request(t, 'GET', '/api/phone/stats?since=2026-02-01T00:00:00Z&until=2026-02-02T00:00:00Z', { token: view });
      expect(res.body.cost.actual.calls).toBe('0.30000');
      expect(res.body.daily).toEqual([expect.objectContaining({ date: '2026-02-01', cost_actual: '0.30000', billable_minutes: 2 })]);
    });

    it('counts calls and messages created through the API', async () => {
      const before = (await request(t, 'GET', '/api/phone/stats', { token: view })).body;
      const call = await request(t, 'POST', '/api/phone/call', {
        token: t.token(['phone:call']),
        body: { to: '+14155551234', message: 'Hello from the stats test' },
      });
      expect(call.status).toBe(201);
      const sms = await request(t, 'POST', '/api/phone/sms', {
        token: t.token(['phone:sms']),
        body: { to: '+14155551234', message: 'Hello from the stats test' },
      });
      expect(sms.status).toBe(201);
      const after = (await request(t, 'GET', '/api/phone/stats', { token: view })).body;
      expect(after.calls.total).toBe(before.calls.total + 1);
      expect(after.calls.by_direction.outbound).toBe(before.calls.by_direction.outbound + 1);
      expect(after.sms.outbound).toBe(before.sms.outbound + 1);
      expect(after.sms.segments_outbound).toBe(before.sms.segments_outbound + 1);
      const today = new Date().toISOString().slice(0, 10);
      expect(after.daily.find((d: Body) => d.date === today)).toMatchObject({ calls: before.calls.total + 1 });
    });

    it('has no daily rows for a period without traffic', async () => {
      const res = await request(t, 'GET', '/api/phone/stats?since=2020-01-01T00:00:00Z&until=2020-01-31T00:00:00Z', { token: view });
      expect(res.status).toBe(200);
      expect(res.body.daily).toEqual([]);
      expect(res.body.calls).toEqual({ total: 0, by_status: {}, by_direction: { inbound: 0, outbound: 0 }, billable_minutes: 0 });
      expect(res.body.cost.actual.total).toBe('0.00000');
    });

    it.each([
      ['since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z', 'since'],
      ['since=yesterday', 'since'],
      ['until=2026-13-01T00:00:00Z', 'until'],
      ['from=2026-01-01', 'from'],
    ])('answers 400 naming the field for %s', async (query, field) => {
      const res = await request(t, 'GET', `/api/phone/stats?${query}`, { token: view });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'validation_failed' });
      expect(fieldsOf(res.body)).toContain(field);
    });
  });

  describe('permissions', () => {
    it.each(['/api/phone/balance', '/api/phone/stats'])(
      'GET %s: 401 without a token, 403 without phone:view, 200 with phone:view or phone:admin',
      async (path) => {
        const anonymous = await request(t, 'GET', path);
        expect(anonymous.status).toBe(401);
        expect(anonymous.body.code).toBe('unauthorized');
        const lacking = await request(t, 'GET', path, { token: t.token(['phone:call', 'phone:sms']) });
        expect(lacking.status).toBe(403);
        expect(lacking.body.message).toContain('phone:view');
        expect((await request(t, 'GET', path, { token: view })).status).toBe(200);
        expect((await request(t, 'GET', path, { token: t.token(['phone:admin']) })).status).toBe(200);
      },
    );
  });
});
