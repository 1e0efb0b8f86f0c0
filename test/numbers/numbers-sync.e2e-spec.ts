import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/** stats.numbers_owned follows Twilio without anyone asking for GET numbers. */
describe('numbers are synced with Twilio at start and on a schedule', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ NUMBERS_SYNC_INTERVAL_SECONDS: '1' });
  });
  afterAll(async () => t?.close());

  const numbersOwned = async () => {
    const res = await request(t, 'GET', '/api/phone/stats', { token: t.token(['phone:view']) });
    expect(res.status).toBe(200);
    return res.body.numbers_owned as number;
  };

  it('counts the account number from the start and a number bought directly at Twilio after the interval', async () => {
    await eventually(async () => (await numbersOwned()) === 1, 5_000);
    // bought in the console (here: straight at the sandbox), not through our API
    await t.app.get(TwilioGateway).purchaseNumber('+14155550177', 'Console purchase', {});
    await eventually(async () => (await numbersOwned()) === 2, 5_000, 200);
  });

  it('counts a number released directly at Twilio as gone after the interval', async () => {
    const owned = await t.app.get(TwilioGateway).listOwnedNumbers();
    const bought = owned.find((n) => n.phoneNumber === '+14155550177')!;
    await t.app.get(TwilioGateway).releaseNumber(bought.sid);
    await eventually(async () => (await numbersOwned()) === 1, 5_000, 200);
  });
});
