import { DataSource } from 'typeorm';
import { JsonBody, Reply, fieldsOf, request } from '../support/http';
import { AgentServer } from '../support/agent-server';
import { TestApp, eventually, startTestApp } from '../support/test-app';
import { TRANSFER_FAILED_SAY } from '../../src/calls/call-control.service';
import { VOICEMAIL_WAIT_SECONDS } from '../../src/calls/placed-call.twiml';

/**
 * Mid-call control through the sandbox: a live call transferred to another number (the whisper
 * heard there first, the dial's outcome stored on the call and its timeline), and the voicemail
 * left on an answering machine after its beep.
 */
let t: TestApp;
let caller: string;

/** A number the sandbox answers and keeps talking on until it is hung up. */
const LONG_CALL_TO = '+14155555555';
/** A number an answering machine answers (its greeting ends in a beep). */
const MACHINE_TO = '+14155554444';
/** Where transfers go: a person answers. */
const TRANSFER_TO = '+14155550123';

function api(method: string, path: string, body?: unknown): Promise<Reply> {
  return request(t, method, path, { token: caller, body });
}

function sandboxCall(sid: string) {
  return t.sandbox.calls().find((c) => c.sid === sid);
}

function said(sid: string): string[] {
  return (sandboxCall(sid)?.executed ?? []).filter((v) => v.verb === 'Say').map((v) => v.text ?? '');
}

async function placeAnsweredCall(): Promise<JsonBody> {
  const res = await api('POST', '/api/phone/call', { to: LONG_CALL_TO, message: 'Hold the line, please.' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await eventually(async () => sandboxCall(res.body.sid)?.status === 'in-progress');
  await eventually(async () => (await api('GET', `/api/phone/calls/${res.body.sid}`)).body.status === 'in-progress');
  return res.body;
}

async function settledCall(sid: string, done: (call: JsonBody) => boolean, timeoutMs = 20_000): Promise<JsonBody> {
  return eventually(async () => {
    const got = await api('GET', `/api/phone/calls/${sid}`);
    return done(got.body) ? got.body : null;
  }, timeoutMs);
}

beforeAll(async () => {
  // ALLOW_PRIVATE_WEBHOOK_URLS: an assistant's agent listens on loopback
  t = await startTestApp({ RATE_LIMIT_CALLS: '1000', SANDBOX_SPEED: '20', ALLOW_PRIVATE_WEBHOOK_URLS: 'true' });
  caller = t.token(['phone:call', 'phone:view'], 'control-agent');
});

afterAll(async () => {
  await t?.close();
});

describe('POST /api/phone/calls/{sid}/transfer', () => {
  it('dials the number on the live call, whispers to whoever answers there, and stores how the dial ended', async () => {
    const call = await placeAnsweredCall();
    const whisper = 'Transferring a customer who wants to move an appointment.';
    const res = await api('POST', `/api/phone/calls/${call.sid}/transfer`, { to: TRANSFER_TO, whisper });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.transfer).toMatchObject({
      to: TRANSFER_TO,
      whisper,
      caller_id: call.from,
      status: 'requested',
      requested_by: 'control-agent',
      call_sid: null,
    });

    // the live call now runs <Dial> to the number
    await eventually(async () => sandboxCall(call.sid)?.executed.some((v) => v.verb === 'Dial'));
    const done = await settledCall(call.sid, (c) => c.transfer?.status !== 'requested');
    expect(done.transfer).toMatchObject({ to: TRANSFER_TO, status: 'completed' });
    expect(done.transfer.call_sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(done.transfer.call_sid).not.toBe(call.sid);
    // the dialed party heard the whisper first, fetched from our signed webhook
    await eventually(async () => said(done.transfer.call_sid).includes(whisper));
    expect(
      t.sandbox
        .callbacks()
        .some((d) => d.url.includes('/api/phone/webhook/whisper?record_id=') && d.resourceSid === done.transfer.call_sid),
    ).toBe(true);
    const timeline = done.timeline.map((e: JsonBody) => e.status);
    expect(timeline).toEqual(expect.arrayContaining(['in-progress', 'transferring', 'transferred']));
    expect(timeline.indexOf('transferring')).toBeGreaterThan(timeline.indexOf('in-progress'));
    expect(timeline.indexOf('transferred')).toBeGreaterThan(timeline.indexOf('transferring'));
  });

  it('transfers without a whisper, with the caller ID asked for', async () => {
    const call = await placeAnsweredCall();
    const res = await api('POST', `/api/phone/calls/${call.sid}/transfer`, { to: TRANSFER_TO, caller_id: '+14155550199' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.transfer).toMatchObject({ whisper: null, caller_id: '+14155550199', status: 'requested' });
    const dial = await eventually(async () => sandboxCall(call.sid)?.executed.find((v) => v.verb === 'Dial'));
    expect(dial.attributes.callerId).toBe('+14155550199');
  });

  it('answers 409 call_not_live on a call that has ended; nothing is stored', async () => {
    const placed = await api('POST', '/api/phone/call', { to: '+14155550190', message: 'Bye.' });
    expect(placed.status).toBe(201);
    await settledCall(placed.body.sid, (c) => c.status === 'completed');
    const res = await api('POST', `/api/phone/calls/${placed.body.sid}/transfer`, { to: TRANSFER_TO });
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body).toMatchObject({ code: 'call_not_live' });
    expect(res.body.message).toContain(placed.body.sid);
    const got = await api('GET', `/api/phone/calls/${placed.body.sid}`);
    expect(got.body.transfer).toBeNull();
  });

  it('answers 400 naming the field for a number that is not a valid phone number', async () => {
    const call = await placeAnsweredCall();
    for (const [body, field] of [
      [{ to: '+1555' }, 'to'],
      [{ to: '+14155550123', caller_id: '+99912345678' }, 'caller_id'],
      [{}, 'to'],
      [{ to: '+14155550123', whisper: '' }, 'whisper'],
    ] as const) {
      const res = await api('POST', `/api/phone/calls/${call.sid}/transfer`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.code).toBe(field === 'whisper' ? 'validation_failed' : 'invalid_phone_number');
      expect(fieldsOf(res.body)).toContain(field);
    }
    expect(sandboxCall(call.sid)?.executed.some((v) => v.verb === 'Dial')).toBe(false);
    expect((await api('GET', `/api/phone/calls/${call.sid}`)).body.transfer).toBeNull();
  });

  it('answers 503 when the request cannot be recorded: Twilio is not asked and the call goes on', async () => {
    const call = await placeAnsweredCall();
    const db = t.app.get(DataSource);
    await db.query(`CREATE OR REPLACE FUNCTION refuse_transfer() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await db.query(
      'CREATE TRIGGER refuse_transfer BEFORE UPDATE OF transfer_requested_at ON call_records FOR EACH ROW EXECUTE FUNCTION refuse_transfer()',
    );
    let res: Reply;
    try {
      res = await api('POST', `/api/phone/calls/${call.sid}/transfer`, { to: TRANSFER_TO });
    } finally {
      await db.query('DROP TRIGGER refuse_transfer ON call_records');
    }
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.code).toBe('dependency_unavailable');
    expect(res.headers.get('retry-after')).toBe('5');
    expect(sandboxCall(call.sid)?.executed.some((v) => v.verb === 'Dial')).toBe(false);
    expect(sandboxCall(call.sid)?.status).toBe('in-progress');
  });

  it('runs once for a repeated Idempotency-Key, and refuses a second transfer while the first is dialing', async () => {
    // whoever answers there talks for an hour: the transfer stays in its dial
    const target = '+14155550124';
    t.sandbox.setScript(target, [], { talkSeconds: 3600 });
    const call = await placeAnsweredCall();
    const send = (key: string) =>
      fetch(`${t.baseUrl}/api/phone/calls/${call.sid}/transfer`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${caller}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify({ to: target }),
      });
    const first = await send('transfer-once');
    const again = await send('transfer-once');
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as JsonBody).transfer.requested_at).toBe(((await first.json()) as JsonBody).transfer.requested_at);
    const other = await send('transfer-other');
    expect(other.status).toBe(409);
    expect(((await other.json()) as JsonBody).code).toBe('transfer_in_progress');
    await eventually(async () => sandboxCall(call.sid)?.executed.some((v) => v.verb === 'Dial'));
    expect(sandboxCall(call.sid)?.executed.filter((v) => v.verb === 'Dial')).toHaveLength(1);
  });
});

describe('voicemail drop', () => {
  const voicemail = 'Hi, this is Samsaek about your appointment. Please call us back.';

  it('waits for the beep of an answering machine, leaves the message, hangs up: outcome voicemail', async () => {
    const placed = await api('POST', '/api/phone/call', { to: MACHINE_TO, message: 'Hello!', voicemail_message: voicemail });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    expect(placed.body).toMatchObject({ voicemail_message: voicemail, voicemail_left_at: null });
    expect(sandboxCall(placed.body.sid)?.machineDetection).toBe('DetectMessageEnd');

    const done = await settledCall(
      placed.body.sid,
      (c) => c.status === 'completed' && c.timeline.some((e: JsonBody) => e.status === 'voicemail-left'),
    );
    expect(done).toMatchObject({ answered_by: 'machine_end_beep', voicemail_message: voicemail });
    expect(done.voicemail_left_at).not.toBeNull();
    expect(done.timeline.map((e: JsonBody) => e.status)).toEqual(expect.arrayContaining(['in-progress', 'voicemail-left', 'completed']));
    // the message spoken after the beep, then the hang-up
    const verbs = sandboxCall(placed.body.sid)!.executed.map((v) => v.verb);
    expect(said(placed.body.sid)).toEqual(['Hello!', voicemail]);
    expect(verbs.slice(-2)).toEqual(['Say', 'Hangup']);

    const report = await api('GET', `/api/phone/calls/${placed.body.sid}/report`);
    expect(report.body).toMatchObject({ outcome: 'voicemail', answered_by: 'machine_end_beep' });
    const history = await api('GET', `/api/phone/calls/history?to=${encodeURIComponent(MACHINE_TO)}`);
    expect(history.body.calls.find((c: JsonBody) => c.sid === placed.body.sid)).toMatchObject({
      answered_by: 'machine_end_beep',
      voicemail_message: voicemail,
    });

    // Twilio repeating the detection's callback leaves nothing twice
    const amd = t.sandbox
      .callbacks()
      .filter((d) => d.resourceSid === placed.body.sid && d.params.AnsweredBy && d.url.includes('/webhook/amd'));
    expect(amd.length).toBeGreaterThan(0);
    const repeat = await fetch(`${t.baseUrl}${new URL(amd[0].url).pathname}${new URL(amd[0].url).search}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': amd[0].headers['X-Twilio-Signature'] ?? amd[0].headers['x-twilio-signature'],
      },
      body: new URLSearchParams(amd[0].params).toString(),
    });
    expect(repeat.status).toBe(204);
    expect(said(placed.body.sid)).toEqual(['Hello!', voicemail]);
    expect((await api('GET', `/api/phone/calls/${placed.body.sid}`)).body.voicemail_left_at).toBe(done.voicemail_left_at);
  });

  it("leaves an assistant's voicemail message when its call reaches a machine", async () => {
    const agent = await new AgentServer().start();
    try {
      const admin = t.token(['phone:admin'], 'control-admin');
      const created = await request(t, 'POST', '/api/phone/assistants', {
        token: admin,
        body: {
          name: 'Reminder caller',
          agent_url: agent.url,
          first_message: 'Hi, this is Bright Dental calling about your appointment.',
          voicemail_message: voicemail,
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      agent.secret = created.body.secret;
      agent.reply = () => ({ say: 'Are you there?' });

      const placed = await api('POST', '/api/phone/call', { to: MACHINE_TO, assistant_id: created.body.id });
      expect(placed.status, JSON.stringify(placed.body)).toBe(201);
      expect(placed.body).toMatchObject({ assistant_id: created.body.id, voicemail_message: voicemail });
      expect(sandboxCall(placed.body.sid)?.machineDetection).toBe('DetectMessageEnd');

      const done = await settledCall(
        placed.body.sid,
        (c) => c.status === 'completed' && c.timeline.some((e: JsonBody) => e.status === 'voicemail-left'),
      );
      expect(done).toMatchObject({ answered_by: 'machine_end_beep' });
      const spoken = said(placed.body.sid);
      expect(spoken[0]).toBe('Hi, this is Bright Dental calling about your appointment.');
      expect(spoken.at(-1)).toBe(voicemail);
      expect((await api('GET', `/api/phone/calls/${placed.body.sid}/report`)).body).toMatchObject({ outcome: 'voicemail' });
    } finally {
      await agent.stop();
    }
  });

  it('leaves no voicemail when a person answers: the call runs its own content', async () => {
    const placed = await api('POST', '/api/phone/call', { to: '+14155550191', message: 'Hello there!', voicemail_message: voicemail });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const done = await settledCall(placed.body.sid, (c) => c.status === 'completed' && c.answered_by !== null);
    expect(done).toMatchObject({ answered_by: 'human', voicemail_left_at: null });
    expect(said(placed.body.sid)).toEqual(['Hello there!']);
    const report = await api('GET', `/api/phone/calls/${placed.body.sid}/report`);
    expect(report.body.outcome).toBe('completed');
  });

  it('hangs up soon after the message once detection says a person answered, not after the detection timeout', async () => {
    const placed = await api('POST', '/api/phone/call', { to: '+14155550191', message: 'Hello there!', voicemail_message: voicemail });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const done = await settledCall(placed.body.sid, (c) => c.status === 'completed' && c.answered_by !== null);
    expect(done).toMatchObject({ answered_by: 'human', voicemail_left_at: null });
    // the person heard the message, then silence only until the detection knew them (2.5 s in the
    // sandbox), not the 30 s Twilio may take to give up on detecting: the call hangs up by itself
    const executed = sandboxCall(placed.body.sid)!.executed;
    const silence = executed.filter((v) => v.verb === 'Pause').reduce((sum, v) => sum + v.seconds, 0);
    expect(silence).toBeLessThan(VOICEMAIL_WAIT_SECONDS);
    expect(executed.at(-1)?.verb).toBe('Hangup');
    expect(done.duration).toBeLessThan(VOICEMAIL_WAIT_SECONDS);
    expect((await api('GET', `/api/phone/calls/${placed.body.sid}/report`)).body).toMatchObject({ outcome: 'completed', ended_by: 'api' });
  });

  it('answers 400 naming voicemail_message when it is empty or too long', async () => {
    for (const voicemail_message of ['', 'x'.repeat(20001)]) {
      const res = await api('POST', '/api/phone/call', { to: MACHINE_TO, message: 'Hi', voicemail_message });
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toContain('voicemail_message');
    }
  });
});

describe("an assistant's call under control", () => {
  let agent: AgentServer;
  let assistantId: string;
  /** Turns the agent heard on call `sid`. */
  const turnsOf = (sid: string) => agent.turns.filter((turn) => turn.body.call?.sid === sid);
  /** The executed verbs of call `sid`, in order, as `Verb:text`. */
  const verbsOf = (sid: string) => (sandboxCall(sid)?.executed ?? []).map((v) => `${v.verb}:${v.text ?? ''}`);

  beforeAll(async () => {
    agent = await new AgentServer().start();
    const created = await request(t, 'POST', '/api/phone/assistants', {
      token: t.token(['phone:admin'], 'control-admin'),
      body: {
        name: 'Front desk',
        agent_url: agent.url,
        first_message: 'Hi, this is Bright Dental.',
        // a long wait for each answer, so that the call is live and listening while the test acts on it
        speech: { timeout: 60 },
        limits: { silence_limit: 20 },
        transfer_number: '+14155551111',
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    assistantId = created.body.id;
    agent.secret = created.body.secret;
  });

  afterAll(async () => {
    await agent?.stop();
  });

  beforeEach(() => {
    agent.reply = () => ({ say: 'Still with me?' });
  });

  async function placeListeningCall(to = LONG_CALL_TO): Promise<string> {
    const placed = await api('POST', '/api/phone/call', { to, assistant_id: assistantId });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const sid = placed.body.sid as string;
    await eventually(async () => sandboxCall(sid)?.executed.some((v) => v.verb === 'Gather'));
    await eventually(async () => (await api('GET', `/api/phone/calls/${sid}`)).body.status === 'in-progress');
    return sid;
  }

  it('speaks the text of POST say on the live call, then listens again: the next turn reaches the agent', async () => {
    const sid = await placeListeningCall();
    const text = 'Your appointment is confirmed for Tuesday at ten.';
    try {
      const res = await api('POST', `/api/phone/calls/${sid}/say`, { text });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ sid, status: 'in-progress', assistant_id: assistantId });

      // the sandbox ran the text, then a Gather listening for the next turn
      await eventually(async () => verbsOf(sid).includes(`Say:${text}`));
      const verbs = verbsOf(sid);
      expect(verbs[verbs.indexOf(`Say:${text}`) + 1]).toBe('Gather:');
      const gather = sandboxCall(sid)!
        .executed.filter((v) => v.verb === 'Gather')
        .at(-1)!;
      expect(gather.attributes.action).toMatch(/\/gather\?step=\d+/);

      // that Gather's result is a turn like any other, with the spoken text in its transcript
      const turn = await eventually(async () =>
        turnsOf(sid).find((tn) => tn.body.transcript.some((e: JsonBody) => e.role === 'assistant' && e.text === text)),
      );
      expect(turn.verified).toBe(true);
      const call = await api('GET', `/api/phone/calls/${sid}`);
      expect(call.body.transcript.map((e: JsonBody) => e.text)).toContain(text);
    } finally {
      await api('POST', `/api/phone/calls/${sid}/hangup`);
    }
  });

  it('returns the caller to the conversation when the transfer the agent asked for finds the line busy', async () => {
    const caller = '+14155550177';
    t.sandbox.setScript(caller, [{ speech: 'Can I talk to a person?' }, { speech: 'OK, never mind then. Thanks, bye.' }]);
    agent.reply = (body: JsonBody) =>
      body.turn === 1 ? { say: 'Let me put you through.', transfer: true } : { say: 'Bye for now.', hangup: true };
    const placed = await api('POST', '/api/phone/call', { to: caller, assistant_id: assistantId });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const sid = placed.body.sid as string;
    const done = await settledCall(sid, (c) => c.status === 'completed');

    expect(done.transfer).toMatchObject({ to: '+14155551111', status: 'busy', requested_by: `assistant:${assistantId}` });
    const timeline = done.timeline.map((e: JsonBody) => e.status);
    expect(timeline).toEqual(expect.arrayContaining(['transferring', 'transfer-failed', 'completed']));
    expect(timeline.indexOf('transfer-failed')).toBeGreaterThan(timeline.indexOf('transferring'));
    // the caller heard the dial fail, a short word, and the conversation went on to its end
    expect(verbsOf(sid)).toEqual([
      'Say:Hi, this is Bright Dental.',
      'Gather:',
      'Say:Let me put you through.',
      'Dial:+14155551111',
      `Say:${TRANSFER_FAILED_SAY}`,
      'Gather:',
      'Say:Bye for now.',
      'Hangup:',
    ]);
    expect(turnsOf(sid).map((tn) => tn.body.input.speech)).toEqual(['Can I talk to a person?', 'OK, never mind then. Thanks, bye.']);
    expect(done.transcript.map((e: JsonBody) => [e.role, e.text])).toEqual([
      ['assistant', 'Hi, this is Bright Dental.'],
      ['caller', 'Can I talk to a person?'],
      ['assistant', 'Let me put you through.'],
      ['assistant', TRANSFER_FAILED_SAY],
      ['caller', 'OK, never mind then. Thanks, bye.'],
      ['assistant', 'Bye for now.'],
    ]);
  });

  it('returns the caller to the conversation when a transfer through the API is not answered', async () => {
    const sid = await placeListeningCall();
    try {
      const res = await api('POST', `/api/phone/calls/${sid}/transfer`, { to: '+14155553333' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const failed = await settledCall(sid, (c) => c.transfer?.status === 'failed');
      expect(failed.status).toBe('in-progress');
      expect(failed.timeline.map((e: JsonBody) => e.status)).toEqual(expect.arrayContaining(['transferring', 'transfer-failed']));
      await eventually(async () => verbsOf(sid).includes(`Say:${TRANSFER_FAILED_SAY}`));
      const verbs = verbsOf(sid);
      expect(verbs.slice(verbs.indexOf('Dial:+14155553333'), verbs.indexOf(`Say:${TRANSFER_FAILED_SAY}`) + 2)).toEqual([
        'Dial:+14155553333',
        `Say:${TRANSFER_FAILED_SAY}`,
        'Gather:',
      ]);
      expect((await api('GET', `/api/phone/calls/${sid}`)).body.status).toBe('in-progress');
    } finally {
      await api('POST', `/api/phone/calls/${sid}/hangup`);
    }
  });

  it('ends a call without an assistant after a failed transfer: there is no conversation to return to', async () => {
    const call = await placeAnsweredCall();
    const res = await api('POST', `/api/phone/calls/${call.sid}/transfer`, { to: '+14155551111' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const done = await settledCall(call.sid, (c) => c.status === 'completed');
    expect(done.transfer).toMatchObject({ status: 'busy' });
    expect(done.timeline.map((e: JsonBody) => e.status)).toEqual(expect.arrayContaining(['transferring', 'transfer-failed', 'completed']));
    expect(said(call.sid)).not.toContain(TRANSFER_FAILED_SAY);
  });
});
