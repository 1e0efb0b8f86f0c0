import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, expectListSchema, expectRestError, expectSchema, sdkFor, startSandbox } from './sandbox-helpers';

describe('balance, prices and usage records', () => {
  let sandbox: TwilioSandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ balance: '20.00' });
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  /** 75 words at 150 wpm = 30 s; 200 words = 80 s, billed as two minutes. */
  const say = (words: number) => `<Response><Say>${'word '.repeat(words)}</Say></Response>`;

  it('debits calls per started minute, SMS per segment and numbers per month, and reports them', async () => {
    const { client, http } = sdkFor(sandbox);
    const balance = await client.balance.fetch();
    expectSchema('balance', http.last().body);
    expect(balance).toMatchObject({ balance: '20.00', currency: 'USD', accountSid: sandbox.accountSid });

    const short = await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: say(75) });
    const long = await client.calls.create({ to: CUSTOMER, from: OWNED, twiml: say(200) });
    const sms = await client.messages.create({ to: CUSTOMER, from: OWNED, body: 'x'.repeat(161) });
    await client.incomingPhoneNumbers.create({ phoneNumber: '+14155550123' });
    await sandbox.settle();

    expect(await client.calls(short.sid).fetch()).toMatchObject({ duration: '30', price: '-0.00850' });
    expect(await client.calls(long.sid).fetch()).toMatchObject({ duration: '80', price: '-0.01700' });
    expect((await client.messages(sms.sid).fetch()).price).toBe('-0.01500');
    // 20 - 0.0085 - 0.017 - 0.015 - 1.00
    expect((await client.balance.fetch()).balance).toBe('18.9595');

    const today = await client.usage.records.today.list();
    expectListSchema('usage_records_today', http.last().body);
    for (const record of (http.last().body as { usage_records: unknown[] }).usage_records) expectSchema('usage_record_today', record);
    const byCategory = Object.fromEntries(today.map((r) => [r.category, r]));
    expect(byCategory.calls).toMatchObject({ count: '2', usage: '3', usageUnit: 'minutes', price: '0.02550' });
    expect(byCategory.sms).toMatchObject({ count: '1', usage: '2', price: '0.01500' });
    expect(byCategory.phonenumbers).toMatchObject({ count: '1', price: '1.00000' });
    expect(byCategory.totalprice).toMatchObject({ price: '1.04050', usage: '1.04050', usageUnit: 'usd' });
  });

  it('shows no price before the terminal status', async () => {
    const { client } = sdkFor(sandbox);
    const call = await client.calls.create({ to: '+14155555555', from: OWNED, twiml: '<Response/>' });
    await sandbox.settle();
    const live = await client.calls(call.sid).fetch();
    expect(live.status).toBe('in-progress');
    expect(live.price).toBeNull();
    expect((await client.usage.records.today.list({ category: 'calls' }))[0].count).toBe('0');
  });

  it('serves every usage subresource and filters by category', async () => {
    const { client, http } = sdkFor(sandbox);
    await client.messages.create({ to: CUSTOMER, from: OWNED, body: 'x' });
    await sandbox.settle();
    const lists = {
      allTime: await client.usage.records.allTime.list({ category: 'sms' }),
      thisMonth: await client.usage.records.thisMonth.list({ category: 'sms' }),
      monthly: await client.usage.records.monthly.list({ category: 'sms' }),
      yearly: await client.usage.records.yearly.list({ category: 'sms' }),
      daily: await client.usage.records.daily.list({ category: 'sms' }),
      records: await client.usage.records.list({ category: 'sms' }),
    };
    for (const [name, records] of Object.entries(lists)) {
      expect(
        records.map((r) => r.category),
        name,
      ).toEqual(records.map(() => 'sms'));
      expect(
        records.reduce((sum, r) => sum + Number(r.count), 0),
        name,
      ).toBe(1);
    }
    expectListSchema('usage_records', http.last().body);
    expect((await client.usage.records.yesterday.list({ category: 'sms' }))[0].count).toBe('0');
    expect((await client.usage.records.lastMonth.list({ category: 'sms' }))[0].count).toBe('0');
    const lastMonth = (await client.usage.records.lastMonth.list({ category: 'sms' }))[0];
    expect(lastMonth.startDate.getUTCDate()).toBe(1);
    expect(lists.daily.at(-1)?.startDate.toISOString().slice(0, 10)).toBe(sandbox.now().toISOString().slice(0, 10));
  });

  it('refuses a new call or SMS with 403 / 20005 once the balance is used up', async () => {
    const poor = await startSandbox({ balance: '1.00' });
    try {
      const { client } = sdkFor(poor);
      expect(await client.api.v2010.accounts(poor.accountSid).fetch()).toMatchObject({
        sid: poor.accountSid,
        status: 'active',
        type: 'Full',
      });
      await client.incomingPhoneNumbers.create({ phoneNumber: '+14155550123' });
      expect((await client.balance.fetch()).balance).toBe('0.00');
      expect((await client.api.v2010.accounts(poor.accountSid).fetch()).status).toBe('suspended');
      await expectRestError(client.api.v2010.accounts(`AC${'0'.repeat(32)}`).fetch(), 404, 20404);
      const err = await expectRestError(client.calls.create({ to: CUSTOMER, from: OWNED, twiml: '<Response/>' }), 403, 20005);
      expect(err.message).toBe('Account not active');
      await expectRestError(client.messages.create({ to: CUSTOMER, from: OWNED, body: 'x' }), 403, 20005);
    } finally {
      await poor.stop();
    }
  });
});
