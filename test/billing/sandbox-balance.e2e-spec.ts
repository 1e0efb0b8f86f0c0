import { Reply, request } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';

/**
 * The in-process sandbox's account holds SANDBOX_BALANCE, and spends it like Twilio does: once it
 * is used up, Twilio refuses calls and messages (20005), which we answer 402 insufficient_funds, a
 * refusal of its own, not our daily spending ceiling. The benchmark's 402s were these: its sandbox
 * started with the default $20 whatever it was told about the ceiling.
 */
describe('SANDBOX_BALANCE', () => {
  let t: TestApp;
  let token: string;

  // two messages' worth at the sandbox's $0.0075 a segment, and a ceiling that never refuses
  beforeAll(async () => {
    t = await startTestApp({ SANDBOX_BALANCE: '0.01', SPENDING_DAILY_LIMIT: '1000000', RATE_LIMIT_SMS: '1000' });
    token = t.token(['phone:sms', 'phone:view']);
  });

  afterAll(async () => {
    await t?.close();
  });

  const sms = (message: string): Promise<Reply> => request(t, 'POST', '/api/phone/sms', { token, body: { to: '+14155550100', message } });

  it('starts the account with the configured balance', async () => {
    const balance = await request(t, 'GET', '/api/phone/balance', { token });
    expect(balance.status).toBe(200);
    expect(balance.body).toEqual({ balance: '0.01', currency: 'USD' });
  });

  it("answers Twilio's refusal of a spent account with 402 insufficient_funds, whatever the ceiling allows", async () => {
    const sent: number[] = [];
    let refused: Reply | undefined;
    for (let i = 0; i < 5 && !refused; i++) {
      const reply = await sms(`message ${i}`);
      if (reply.status === 201) sent.push(i);
      else refused = reply;
    }
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(refused?.status).toBe(402);
    expect(refused?.body).toMatchObject({ statusCode: 402, code: 'insufficient_funds' });
    // Twilio was asked and said no: the refused message is not among the sandbox's
    expect(t.sandbox.messages()).toHaveLength(sent.length);
  });
});
