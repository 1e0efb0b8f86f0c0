import { TwilioSandbox } from '@samsaek/twilio-sandbox';
import { TwilioSdkGateway } from '../../src/twilio/twilio-sdk.gateway';

describe('TwilioSdkGateway lists what Twilio created since a moment', () => {
  let sandbox: TwilioSandbox;
  let gateway: TwilioSdkGateway;
  const from = '+14155550199';

  beforeAll(async () => {
    sandbox = await TwilioSandbox.start();
    gateway = new TwilioSdkGateway({
      accountSid: sandbox.accountSid,
      authToken: sandbox.authToken,
      target: { mode: 'sandbox', baseUrl: sandbox.baseUrl },
      timeoutMs: 5000,
    });
  });
  afterAll(() => sandbox.stop());

  it('returns calls newest first, narrowed by number and limit, and none created before the moment', async () => {
    const before = new Date(Date.now() - 60_000);
    const placed = [];
    for (const to of ['+14155550101', '+14155550102', '+14155550101']) {
      placed.push(
        await gateway.placeCall({
          to,
          from,
          twiml: '<Response><Say>Hi</Say></Response>',
          record: false,
          statusCallbackUrl: 'http://127.0.0.1:9/status',
        }),
      );
    }
    const all = await gateway.listCallsCreatedSince(before);
    expect(all.map((c) => c.sid)).toEqual(placed.map((c) => c.sid).reverse());
    expect(all[0]).toMatchObject({ to: '+14155550101', from, direction: 'outbound' });

    const toFirst = await gateway.listCallsCreatedSince(before, { to: '+14155550101' });
    expect(toFirst.map((c) => c.sid)).toEqual([placed[2].sid, placed[0].sid]);
    expect(await gateway.listCallsCreatedSince(before, {}, 1)).toHaveLength(1);
    expect(await gateway.listCallsCreatedSince(new Date(Date.now() + 2000))).toEqual([]);
  });

  it('returns messages newest first with their bodies', async () => {
    const before = new Date(Date.now() - 60_000);
    const first = await gateway.sendMessage({ to: '+14155550103', from, body: 'first' });
    const second = await gateway.sendMessage({ to: '+14155550104', from, body: 'second' });
    const listed = await gateway.listMessagesCreatedSince(before);
    expect(listed.map((m) => [m.sid, m.body])).toEqual([
      [second.sid, 'second'],
      [first.sid, 'first'],
    ]);
    expect((await gateway.listMessagesCreatedSince(before, { from: '+14155550999' })).length).toBe(0);
  });
});
