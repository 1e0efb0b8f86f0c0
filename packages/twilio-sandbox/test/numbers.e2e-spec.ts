import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { TwilioSandbox } from '../src';
import { OWNED, expectListSchema, expectRestError, expectSchema, sdkFor, startSandbox } from './sandbox-helpers';

describe('phone numbers', () => {
  let sandbox: TwilioSandbox;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  it('searches local numbers by area code: valid, plausible, with live-API capability casing', async () => {
    const { client, http } = sdkFor(sandbox);
    const numbers = await client.availablePhoneNumbers('US').local.list({ areaCode: 415, limit: 20 });
    expect(numbers).toHaveLength(20);
    expectListSchema('available_local', http.last().body);
    for (const n of numbers) {
      expect(n.phoneNumber.startsWith('+1415')).toBe(true);
      expect(parsePhoneNumberFromString(n.phoneNumber)?.isValid()).toBe(true);
      expect(n).toMatchObject({ locality: 'San Francisco', region: 'CA', isoCountry: 'US', postalCode: '94103' });
      expect(n.friendlyName).toMatch(/^\(415\) \d{3}-\d{4}$/);
    }
    const raw = (http.last().body as { available_phone_numbers: { capabilities: object }[] }).available_phone_numbers[0];
    expect(Object.keys(raw.capabilities).sort()).toEqual(['MMS', 'SMS', 'voice']);
  });

  it('is deterministic under the seed and differs with another seed', async () => {
    const list = async (sb: TwilioSandbox) =>
      (await sdkFor(sb).client.availablePhoneNumbers('US').local.list({ areaCode: 212, limit: 30 })).map((n) => n.phoneNumber);
    const same = await startSandbox({ seed: 7 });
    const other = await startSandbox({ seed: 8 });
    try {
      expect(await list(same)).toEqual(await list(sandbox));
      expect(await list(other)).not.toEqual(await list(sandbox));
    } finally {
      await same.stop();
      await other.stop();
    }
  });

  it('filters by Contains and by SmsEnabled / MmsEnabled / VoiceEnabled', async () => {
    const { client } = sdkFor(sandbox);
    const contains = await client.availablePhoneNumbers('US').local.list({ areaCode: 415, contains: '555', limit: 50 });
    expect(contains.length).toBeGreaterThan(0);
    expect(contains.every((n) => n.phoneNumber.slice(2).includes('555'))).toBe(true);
    const ending = await client.availablePhoneNumbers('US').local.list({ contains: '01*7$', limit: 50 });
    expect(ending.length).toBeGreaterThan(0);
    expect(ending.every((n) => /01\d7$/.test(n.phoneNumber))).toBe(true);
    const all = await client.availablePhoneNumbers('US').local.list({ areaCode: 415, limit: 100 });
    const withoutSms = await client.availablePhoneNumbers('US').local.list({ areaCode: 415, smsEnabled: false, limit: 100 });
    const withMms = await client.availablePhoneNumbers('US').local.list({ areaCode: 415, mmsEnabled: true, limit: 100 });
    expect(withoutSms.length).toBeGreaterThan(0);
    expect(withoutSms.every((n) => (n.capabilities as unknown as Record<string, boolean>).SMS === false)).toBe(true);
    expect(withMms.every((n) => (n.capabilities as unknown as Record<string, boolean>).MMS === true)).toBe(true);
    expect(withMms.length).toBeLessThan(all.length);
    expect((await client.availablePhoneNumbers('US').local.list({ voiceEnabled: false })).length).toBe(0);
  });

  it('pages through available numbers with a next_page_uri that keeps the filters', async () => {
    const { client, http } = sdkFor(sandbox);
    http.exchanges.length = 0;
    const numbers = await client.availablePhoneNumbers('US').local.list({ areaCode: 415, pageSize: 25, limit: 60 });
    expect(numbers).toHaveLength(60);
    expect(new Set(numbers.map((n) => n.phoneNumber)).size).toBe(60);
    expect(http.exchanges).toHaveLength(3);
    expect((http.exchanges[0].body as { next_page_uri: string }).next_page_uri).toContain('AreaCode=415');
  });

  it('offers toll-free and mobile numbers', async () => {
    const { client, http } = sdkFor(sandbox);
    const tollFree = await client.availablePhoneNumbers('US').tollFree.list({ limit: 5 });
    for (const raw of (http.last().body as { available_phone_numbers: unknown[] }).available_phone_numbers)
      expectSchema('available_toll_free', raw);
    expect(tollFree.every((n) => parsePhoneNumberFromString(n.phoneNumber)?.getType() === 'TOLL_FREE')).toBe(true);
    const mobile = await client.availablePhoneNumbers('GB').mobile.list({ limit: 5 });
    for (const raw of (http.last().body as { available_phone_numbers: unknown[] }).available_phone_numbers)
      expectSchema('available_mobile', raw);
    expect(mobile).toHaveLength(5);
    expect(mobile.every((n) => parsePhoneNumberFromString(n.phoneNumber)?.getType() === 'MOBILE')).toBe(true);
  });

  it('purchases by PhoneNumber and by AreaCode, then lists, fetches, updates and releases', async () => {
    const { client, http } = sdkFor(sandbox);
    const bought = await client.incomingPhoneNumbers.create({
      phoneNumber: '+14155550123',
      voiceUrl: 'https://example.com/voice',
      smsUrl: 'https://example.com/sms',
      statusCallback: 'https://example.com/status',
    });
    expect(http.last().statusCode).toBe(201);
    expectSchema('incoming_phone_number', http.last().body);
    expect(bought).toMatchObject({
      phoneNumber: '+14155550123',
      voiceUrl: 'https://example.com/voice',
      smsUrl: 'https://example.com/sms',
      statusCallback: 'https://example.com/status',
      friendlyName: '(415) 555-0123',
    });
    const byArea = await client.incomingPhoneNumbers.create({ areaCode: '212' });
    expect(byArea.phoneNumber.startsWith('+1212')).toBe(true);
    const available = await client.availablePhoneNumbers('US').local.list({ areaCode: 212, limit: 100 });
    expect(available.map((n) => n.phoneNumber)).not.toContain(byArea.phoneNumber);

    const listed = await client.incomingPhoneNumbers.list();
    expectListSchema('incoming_phone_numbers', http.last().body);
    expect(listed.map((n) => n.phoneNumber).sort()).toEqual([OWNED, '+14155550123', byArea.phoneNumber].sort());
    expect((await client.incomingPhoneNumbers.list({ phoneNumber: '+1415555012*' })).map((n) => n.sid)).toEqual([bought.sid]);

    const fetched = await client.incomingPhoneNumbers(bought.sid).fetch();
    expect(http.last().statusCode).toBe(200);
    expect(fetched.sid).toBe(bought.sid);
    const updated = await client.incomingPhoneNumbers(bought.sid).update({ voiceUrl: 'https://example.com/v2', friendlyName: 'Support' });
    expect(updated).toMatchObject({ voiceUrl: 'https://example.com/v2', friendlyName: 'Support', smsUrl: 'https://example.com/sms' });
    expect(await client.incomingPhoneNumbers(bought.sid).remove()).toBe(true);
    expect(http.last().statusCode).toBe(204);
    await expectRestError(client.incomingPhoneNumbers(bought.sid).fetch(), 404, 20404);
    // a released number can be bought again
    await client.incomingPhoneNumbers.create({ phoneNumber: '+14155550123' });
  });

  it('refuses to buy an owned or invalid number', async () => {
    const { client } = sdkFor(sandbox);
    await expectRestError(client.incomingPhoneNumbers.create({ phoneNumber: OWNED }), 400, 21422);
    await expectRestError(client.incomingPhoneNumbers.create({ phoneNumber: '+1415555' }), 400, 21421);
    await expectRestError(client.incomingPhoneNumbers.create({ areaCode: '41' }), 400, 21451);
  });
});
