import { JsonBody, Reply, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/**
 * Who ended an inbound call the plain greeting forwarded (INBOUND_ACTION=forward): the greeting's
 * `<Dial>` reports how the bridge ended to its action, and the report reads it from there. The
 * sandbox plays the caller and the forwarded party (their scripts say how long each stays).
 */
const FORWARD_TO = '+14155550171';
/** The sandbox's 1111 rule: the line is busy. */
const BUSY_FORWARD_TO = '+14155551111';

interface Setup {
  t: TestApp;
  admin: string;
  ourNumber: string;
}

async function forwardingApp(forwardTo: string, phoneNumber: string): Promise<Setup> {
  const t = await startTestApp({ INBOUND_ACTION: 'forward', INBOUND_FORWARD_TO: forwardTo, CALL_REFRESH_AFTER_SECONDS: '0' });
  const admin = t.token(['phone:admin']);
  const bought = await request(t, 'POST', '/api/phone/numbers/purchase', { token: admin, body: { phone_number: phoneNumber } });
  expect(bought.status, JSON.stringify(bought.body)).toBe(201);
  return { t, admin, ourNumber: bought.body.phone_number as string };
}

/** The report once the call has ended. */
function finalReport({ t, admin }: Setup, sid: string): Promise<JsonBody> {
  return eventually(async () => {
    const res: Reply = await request(t, 'GET', `/api/phone/calls/${sid}/report`, { token: admin });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.final ? res.body : null;
  }, 30_000);
}

/** The verbs the sandbox ran on the call, in order. */
const verbsOf = ({ t }: Setup, sid: string) =>
  t.sandbox
    .calls()
    .find((c) => c.sid === sid)!
    .executed.map((v) => v.verb);

describe('ended_by of an inbound call the greeting forwards', () => {
  let s: Setup;

  beforeAll(async () => {
    s = await forwardingApp(FORWARD_TO, '+14155550172');
  }, 60_000);

  afterAll(async () => {
    await s?.t.close();
  });

  it('is caller when the caller hangs up while the forward bridges them', async () => {
    s.t.sandbox.setScript(FORWARD_TO, [], { talkSeconds: 600 });
    const sid = await s.t.sandbox.deliverInboundCall({ from: '+14155550173', to: s.ourNumber, turns: [], bridgeSeconds: 2 });
    const report = await finalReport(s, sid);
    expect(report).toMatchObject({ direction: 'inbound', status: 'completed', ended_by: 'caller' });
    expect(verbsOf(s, sid)).toEqual(['Say', 'Dial']);
    const forwarded = s.t.sandbox.calls().find((c) => c.parentCallSid === sid)!;
    expect(forwarded).toMatchObject({ to: FORWARD_TO, status: 'completed', duration: 2 });
  });

  it('is transfer_target when the forwarded party hangs up first, and the call ends with it', async () => {
    s.t.sandbox.setScript(FORWARD_TO, [], { talkSeconds: 3 });
    const sid = await s.t.sandbox.deliverInboundCall({ from: '+14155550174', to: s.ourNumber, turns: [] });
    const report = await finalReport(s, sid);
    expect(report).toMatchObject({ direction: 'inbound', status: 'completed', ended_by: 'transfer_target' });
    expect(verbsOf(s, sid)).toEqual(['Say', 'Dial', 'Hangup']);
  });
});

describe('ended_by of an inbound call whose forward nobody takes', () => {
  let s: Setup;

  beforeAll(async () => {
    s = await forwardingApp(BUSY_FORWARD_TO, '+14155550175');
  }, 60_000);

  afterAll(async () => {
    await s?.t.close();
  });

  it('is api: the greeting hangs up once the forwarded line was busy', async () => {
    const sid = await s.t.sandbox.deliverInboundCall({ from: '+14155550176', to: s.ourNumber, turns: [] });
    const report = await finalReport(s, sid);
    expect(report).toMatchObject({ direction: 'inbound', status: 'completed', ended_by: 'api' });
    expect(verbsOf(s, sid)).toEqual(['Say', 'Dial', 'Hangup']);
    const forwarded = s.t.sandbox.calls().find((c) => c.parentCallSid === sid)!;
    expect(forwarded).toMatchObject({ to: BUSY_FORWARD_TO, status: 'busy' });
  });
});
