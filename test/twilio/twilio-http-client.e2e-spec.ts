import { TwilioSandbox } from '@samsaek/twilio-sandbox';
import twilio from 'twilio';
import { createTwilioClient } from '../../src/twilio/twilio-http-client';

describe('createTwilioClient', () => {
  let sandbox: TwilioSandbox;

  beforeAll(async () => {
    sandbox = await TwilioSandbox.start();
  });
  afterAll(() => sandbox.stop());

  it('works with a base URL, and without one it targets api.twilio.com', async () => {
    const client = createTwilioClient(sandbox.accountSid, sandbox.authToken, { baseUrl: sandbox.baseUrl });
    const balance = await client.balance.fetch();
    expect(balance.currency).toBe('USD');
    const plain = createTwilioClient(sandbox.accountSid, sandbox.authToken);
    expect(plain.httpClient).toBeInstanceOf(twilio.RequestClient);
    expect(plain.httpClient?.constructor.name).toBe('RequestClient');
  });
});
