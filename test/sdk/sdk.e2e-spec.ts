import { eventually, TestApp, startTestApp } from '../support/test-app';
import { createClient } from '@samsaek/phone-sdk/client';
import type { Client } from '@samsaek/phone-sdk/client';
import {
  getBalance,
  getCall,
  getCallHistory,
  getSms,
  getSmsHistory,
  getStats,
  hangupCall,
  listNumbers,
  placeCall,
  purchaseNumber,
  searchNumbers,
  sendSms,
} from '@samsaek/phone-sdk';
import type { CallDto, ErrorResponseDto, MessageDto } from '@samsaek/phone-sdk';
import { quickstart } from '../../packages/sdk/examples/quickstart';

/**
 * The client generated from openapi.yaml by @hey-api/openapi-ts (the @samsaek/phone-sdk package), used
 * the way an integrator would: every type here comes from the generated code.
 */
describe('generated SDK against the running service', () => {
  let t: TestApp;
  let admin: Client;
  let viewer: Client;

  beforeAll(async () => {
    t = await startTestApp();
    admin = createClient({ baseUrl: t.baseUrl, auth: () => t.token(['phone:admin'], 'sdk-admin') });
    viewer = createClient({ baseUrl: t.baseUrl, auth: () => t.token(['phone:view'], 'sdk-viewer') });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('searches and buys a number, which then appears in the owned list', async () => {
    const search = await searchNumbers({ client: admin, query: { area_code: '415', country: 'US', limit: 5 } });
    expect(search.response.status).toBe(200);
    const candidates = search.data!.numbers;
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates[0].phone_number).toMatch(/^\+1415\d{7}$/);

    const bought = await purchaseNumber({ client: admin, body: { phone_number: candidates[0].phone_number, friendly_name: 'SDK line' } });
    expect(bought.error).toBeUndefined();
    expect(bought.response.status).toBe(201);
    expect(bought.data).toMatchObject({ phone_number: candidates[0].phone_number, friendly_name: 'SDK line', released_at: null });
    expect(bought.data!.sid).toMatch(/^PN[0-9a-f]{32}$/);

    const owned = await listNumbers({ client: viewer });
    expect(owned.data!.numbers.map((n) => n.sid)).toContain(bought.data!.sid);

    const again = await purchaseNumber({ client: admin, body: { phone_number: candidates[0].phone_number } });
    expect(again.response.status).toBe(409);
    expect(again.error?.code).toBe('conflict');
  });

  it('places a call and follows its status to completed', async () => {
    const placed = await placeCall({
      client: admin,
      body: { to: '+14155550100', message: 'Hello from the generated SDK', agent_name: 'SDK Agent', workflow_id: 'sdk_001' },
    });
    expect(placed.error).toBeUndefined();
    expect(placed.response.status).toBe(201);
    const call: CallDto = placed.data!;
    expect(call).toMatchObject({
      to: '+14155550100',
      direction: 'outbound',
      agent_name: 'SDK Agent',
      message: 'Hello from the generated SDK',
    });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);

    const done = await eventually(
      async () => {
        const { data } = await getCall({ client: viewer, path: { sid: call.id } });
        return data?.status === 'completed' ? data : undefined;
      },
      20_000,
      100,
    );
    expect(done.duration).toBeGreaterThan(0);
    expect(done.timeline?.map((e) => e.status)).toEqual(expect.arrayContaining(['queued', 'completed']));

    const hangup = await hangupCall({ client: admin, path: { sid: call.id } });
    expect(hangup.response.status).toBe(409);
    expect(hangup.error?.code).toBe('call_already_ended');

    const history = await getCallHistory({ client: viewer, query: { workflow_id: 'sdk_001', limit: 10 } });
    expect(history.data!.calls.map((c) => c.sid)).toEqual([call.sid]);
    expect(history.data!.next_cursor).toBeNull();
  });

  it('sends an SMS, reads it back and pages through the history with the cursor', async () => {
    const sent: MessageDto[] = [];
    for (const text of ['first', 'second', 'third']) {
      const res = await sendSms({ client: admin, body: { to: '+14155550100', message: `SDK ${text}`, agent_name: 'SDK Bot' } });
      expect(res.response.status).toBe(201);
      sent.push(res.data!);
    }
    const one = await getSms({ client: viewer, path: { sid: sent[0].id } });
    expect(one.data).toMatchObject({ sid: sent[0].sid, body: 'SDK first', to: '+14155550100', segments: 1 });

    const page1 = await getSmsHistory({ client: viewer, query: { agent_name: 'SDK Bot', limit: 2 } });
    expect(page1.data!.messages.map((m) => m.body)).toEqual(['SDK third', 'SDK second']);
    expect(page1.data!.next_cursor).toEqual(expect.any(String));
    const page2 = await getSmsHistory({ client: viewer, query: { agent_name: 'SDK Bot', limit: 2, cursor: page1.data!.next_cursor! } });
    expect(page2.data!.messages.map((m) => m.body)).toEqual(['SDK first']);
    expect(page2.data!.next_cursor).toBeNull();
  });

  it("runs the package README's quickstart: places a call, sends an SMS, reads the workflow's call history", async () => {
    const { call, sms, calls, nextCursor } = await quickstart(
      t.baseUrl,
      t.token(['phone:call', 'phone:sms', 'phone:view'], 'sdk-quickstart'),
    );
    expect(call).toMatchObject({ to: '+14155550100', direction: 'outbound', agent_name: 'Concierge', workflow_id: 'wf_123' });
    expect(sms).toMatchObject({ to: '+14155550100', body: 'Your table is ready.', agent_name: 'Concierge' });
    expect(calls.map((c) => c.sid)).toEqual([call.sid]);
    expect(nextCursor).toBeNull();

    await expect(quickstart(t.baseUrl, t.token(['phone:view'], 'sdk-quickstart'))).rejects.toMatchObject({
      statusCode: 403,
      code: 'forbidden',
    });
  });

  it('reads the balance and the stats', async () => {
    const balance = await getBalance({ client: viewer });
    expect(balance.response.status).toBe(200);
    expect(balance.data!.balance).toMatch(/^-?\d+\.\d+$/);
    expect(balance.data!.currency).toBe('USD');

    const stats = await getStats({ client: viewer });
    expect(stats.response.status).toBe(200);
    expect(stats.data!.calls.total).toBeGreaterThanOrEqual(1);
    expect(stats.data!.sms.outbound).toBeGreaterThanOrEqual(3);
    expect(stats.data!.numbers_owned).toBeGreaterThanOrEqual(1);
  });

  it('returns typed errors in the one error shape', async () => {
    const invalid = await placeCall({ client: admin, body: { to: '+1987654321', message: 'the guide placeholder number' } });
    expect(invalid.data).toBeUndefined();
    expect(invalid.response.status).toBe(400);
    const error: ErrorResponseDto = invalid.error!;
    expect(error).toMatchObject({ statusCode: 400, code: 'invalid_phone_number', error: 'Bad Request' });
    expect(error.details?.map((d) => d.field)).toEqual(['to']);
    expect(error.request_id).toEqual(expect.any(String));

    const missing = await getCall({ client: viewer, path: { sid: `CA${'0'.repeat(32)}` } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.code).toBe('not_found');

    const forbidden = await sendSms({ client: viewer, body: { to: '+14155550100', message: 'no permission' } });
    expect(forbidden.response.status).toBe(403);
    expect(forbidden.error?.code).toBe('forbidden');

    const anonymous = createClient({ baseUrl: t.baseUrl });
    const unauthorized = await getBalance({ client: anonymous });
    expect(unauthorized.response.status).toBe(401);
    expect(unauthorized.error?.code).toBe('unauthorized');

    await expect(getCall({ client: viewer, path: { sid: 'not-a-sid' }, throwOnError: true })).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});
