import type { TwilioSandbox } from '../src';
import { CUSTOMER, OWNED, expectRestError, sdkFor, startSandbox } from './sandbox-helpers';

const MAGIC_OK = '+15005550006';

describe("Twilio's test-credential magic numbers", () => {
  let sandbox: TwilioSandbox;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  it.each([
    ['+15005550001', 21212],
    ['+15005550007', 21606],
    ['+15005550008', 21611],
    ['+14155550100', 21606],
  ])('a message From %s fails with %i', async (from, code) => {
    await expectRestError(sdkFor(sandbox).client.messages.create({ to: CUSTOMER, from, body: 'x' }), 400, code);
  });

  it.each([
    ['+15005550001', 21211],
    ['+15005550002', 21612],
    ['+15005550003', 21408],
    ['+15005550004', 21610],
    ['+15005550009', 21614],
  ])('a message To %s fails with %i', async (to, code) => {
    await expectRestError(sdkFor(sandbox).client.messages.create({ to, from: MAGIC_OK, body: 'x' }), 400, code);
  });

  it('sends a message from +15005550006 without owning it', async () => {
    const message = await sdkFor(sandbox).client.messages.create({ to: CUSTOMER, from: MAGIC_OK, body: 'x' });
    expect(message).toMatchObject({ status: 'queued', numSegments: '1', numMedia: '0' });
  });

  it.each([
    ['+15005550001', 21212],
    ['+15005550002', 21210],
  ])('a call From %s fails with %i', async (from, code) => {
    await expectRestError(sdkFor(sandbox).client.calls.create({ to: CUSTOMER, from, twiml: '<Response/>' }), 400, code);
  });

  it.each([
    ['+15005550001', 21217],
    ['+15005550002', 21214],
    ['+15005550003', 21215],
    ['+15005550004', 21216],
  ])('a call To %s fails with %i', async (to, code) => {
    await expectRestError(sdkFor(sandbox).client.calls.create({ to, from: OWNED, twiml: '<Response/>' }), 400, code);
  });

  it('places a call from +15005550006', async () => {
    const call = await sdkFor(sandbox).client.calls.create({ to: CUSTOMER, from: MAGIC_OK, twiml: '<Response/>' });
    expect(call).toMatchObject({ status: 'queued', fromFormatted: '(500) 555-0006' });
  });

  it('purchases follow the magic PhoneNumber and AreaCode values', async () => {
    const { client } = sdkFor(sandbox);
    await expectRestError(client.incomingPhoneNumbers.create({ phoneNumber: '+15005550000' }), 400, 21422);
    await expectRestError(client.incomingPhoneNumbers.create({ phoneNumber: '+15005550001' }), 400, 21421);
    await expectRestError(client.incomingPhoneNumbers.create({ areaCode: '533' }), 400, 21452);
    const byArea = await client.incomingPhoneNumbers.create({ areaCode: '500' });
    expect(byArea).toMatchObject({ phoneNumber: MAGIC_OK, friendlyName: '(500) 555-0006' });
    await client.incomingPhoneNumbers(byArea.sid).remove();
    const byNumber = await client.incomingPhoneNumbers.create({ phoneNumber: MAGIC_OK, voiceUrl: 'https://example.com/v' });
    expect(byNumber).toMatchObject({ phoneNumber: MAGIC_OK, voiceUrl: 'https://example.com/v' });
  });
});
