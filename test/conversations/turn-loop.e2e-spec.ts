import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { AgentServer, AgentTurn } from '../support/agent-server';
import { JsonBody, Reply, fieldsOf, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';
import { fakeSid, postWebhook } from '../webhooks/webhook-helpers';

/**
 * The turn loop, driven the way Twilio drives it: signed voice and Gather webhooks posted straight
 * to the service, an agent on a local port that verifies every turn's Standard Webhooks signature.
 */
let t: TestApp;
let admin: string;
let agent: AgentServer;
let assistant: JsonBody;
let ourNumber: string;
const CALLER = '+14155550142';
const AGENT_TIMEOUT_MS = 400;
/** A rotated secret keeps signing this long (short, so that a test sees the overlap end). */
const SECRET_OVERLAP_SECONDS = 2;

function api(method: string, path: string, body?: unknown, token: string | null = admin): Promise<Reply> {
  return request(t, method, path, { token, body });
}

/** An inbound call to the assistant's number: the voice webhook's answer. */
async function ring(callSid: string): Promise<string> {
  const res = await postWebhook(t, 'call', { CallSid: callSid, From: CALLER, To: ourNumber, CallStatus: 'ringing', Direction: 'inbound' });
  expect(res.status).toBe(200);
  return res.text();
}

/** The caller's turn as a Gather posts it. */
async function gather(callSid: string, step: number, heard: Record<string, string> = {}, token?: string): Promise<string> {
  const res = await postWebhook(
    t,
    'gather',
    { CallSid: callSid, From: CALLER, To: ourNumber, ...heard },
    { query: `?step=${step}`, token },
  );
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
  return res.text();
}

/** A Gather's action URL without Twilio's connection overrides (the fragment, never sent back to us). */
const actionOf = (xml: string) => /<Gather [^>]*action="([^"]+)"/.exec(xml)?.[1]?.replace(/&amp;/g, '&').split('#')[0] ?? null;
const turnsOf = (callSid: string) => agent.turns.filter((turn) => turn.body.call.sid === callSid);

beforeAll(async () => {
  agent = await new AgentServer().start();
  t = await startTestApp({
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    AGENT_TIMEOUT_MS: String(AGENT_TIMEOUT_MS),
    EVENT_SECRET_OVERLAP_SECONDS: String(SECRET_OVERLAP_SECONDS),
  });
  admin = t.token(['phone:admin']);
  const created = await api('POST', '/api/phone/assistants', {
    name: 'Bright Dental desk',
    agent_url: agent.url,
    greeting: 'Bright Dental, this is Sam. How can I help?',
    voice: 'Polly.Joanna',
    speech: { hints: ['appointment', 'Tuesday'], timeout: 4, speech_model: 'phone_call' },
    limits: { max_turns: 6, silence_limit: 2 },
    end_phrases: ['goodbye'],
    transfer_number: '+14155550111',
    metadata: { tenant_id: 'bright' },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  assistant = created.body;
  agent.secret = assistant.secret;
  const bought = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550188' });
  expect(bought.status).toBe(201);
  ourNumber = bought.body.phone_number;
  expect((await api('PATCH', `/api/phone/numbers/${bought.body.sid}`, { assistant_id: assistant.id })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await agent?.stop();
});

beforeEach(() => {
  agent.delayMs = 0;
  agent.closeNextKeptConnection = false;
  agent.status = 200;
  agent.reply = () => ({ say: 'OK.' });
});

describe('an inbound call to an assistant number', () => {
  it('is greeted by the assistant, then listens with its speech settings', async () => {
    const xml = await ring(fakeSid('CA'));
    expect(xml).toContain('<Say voice="Polly.Joanna" language="en-US">Bright Dental, this is Sam. How can I help?</Say>');
    expect(xml).toMatch(/<Gather [^>]*input="speech dtmf"/);
    for (const attribute of [
      'actionOnEmptyResult="true"',
      'timeout="4"',
      'speechTimeout="auto"',
      'hints="appointment,Tuesday"',
      'speechModel="phone_call"',
      'method="POST"',
    ]) {
      expect(xml).toContain(attribute);
    }
    expect(actionOf(xml)).toBe(`${t.config.twilio.webhookBaseUrl}/gather?step=1`);
  });

  it('sends each turn to the agent, signed, and answers its reply; a retried request does not ask the agent again', async () => {
    const sid = fakeSid('CA');
    await ring(sid);
    agent.reply = (body) =>
      body.turn === 1 ? { say: 'Sure. Which day suits you?' } : { say: 'Tuesday at 10 is booked. Anything else?', voice: 'Polly.Matthew' };
    const first = await gather(sid, 1, { SpeechResult: "I'd like to move my appointment", Confidence: '0.92' }, 'tok-1');
    expect(first).toContain('>Sure. Which day suits you?</Say>');
    expect(actionOf(first)).toMatch(/\/gather\?step=2$/);
    const [turn] = turnsOf(sid);
    expect(turn.verified).toBe(true);
    expect(turn.headers['webhook-id']).toBe(`turn_${sid}_1`);
    expect(turn.body).toMatchObject({
      type: 'conversation.turn',
      assistant_id: assistant.id,
      turn: 1,
      input: { speech: "I'd like to move my appointment", confidence: 0.92, digits: null },
      transcript: [
        { role: 'assistant', text: 'Bright Dental, this is Sam. How can I help?' },
        { role: 'caller', text: "I'd like to move my appointment" },
      ],
      metadata: { tenant_id: 'bright' },
      call: { sid, direction: 'inbound', from: CALLER, to: ourNumber, assistant_id: assistant.id },
    });

    // Twilio retries the same request (its answer was lost): the same TwiML, the agent is not asked twice
    expect(await gather(sid, 1, { SpeechResult: "I'd like to move my appointment", Confidence: '0.92' }, 'tok-1')).toBe(first);
    expect(turnsOf(sid)).toHaveLength(1);

    const second = await gather(sid, 2, { Digits: '2' });
    expect(second).toContain('<Say voice="Polly.Matthew" language="en-US">Tuesday at 10 is booked. Anything else?</Say>');
    expect(turnsOf(sid)[1].body).toMatchObject({ turn: 2, input: { speech: null, confidence: null, digits: '2' } });

    const call = await api('GET', `/api/phone/calls/${sid}`);
    expect(call.status).toBe(200);
    expect(call.body.assistant_id).toBe(assistant.id);
    expect(call.body.transcript.map((e: JsonBody) => [e.role, e.text, e.digits])).toEqual([
      ['assistant', 'Bright Dental, this is Sam. How can I help?', null],
      ['caller', "I'd like to move my appointment", null],
      ['assistant', 'Sure. Which day suits you?', null],
      ['caller', null, '2'],
      ['assistant', 'Tuesday at 10 is booked. Anything else?', null],
    ]);
    expect(call.body.transcript[1].confidence).toBe(0.92);
    const report = await api('GET', `/api/phone/calls/${sid}/report`);
    expect(report.body.transcript.map((e: JsonBody) => e.text)).toEqual(call.body.transcript.map((e: JsonBody) => e.text));

    // every turn is a call.turn event in the outbox
    const events = await eventually(async () => {
      const res = await api('GET', `/api/phone/events?type=call.turn&resource_sid=${sid}&limit=100`);
      return res.body.events?.length === 5 ? res.body.events : null;
    });
    expect(events.map((e: JsonBody) => e.payload.data.object.seq).sort()).toEqual([1, 2, 3, 4, 5]);
    // each event tells the turn as the call shows it
    for (const event of events) {
      const entry = call.body.transcript.find((e: JsonBody) => e.seq === event.payload.data.object.seq);
      expect(event.payload.data.object).toEqual({ ...entry, call_sid: sid, agent_latency_ms: null });
    }
  });

  it('transfers, sends digits and hangs up when the agent says so', async () => {
    const sid = fakeSid('CA');
    await ring(sid);
    agent.reply = () => ({ say: 'Let me get you a person.', transfer: true });
    const transfer = await gather(sid, 1, { SpeechResult: 'a human please', Confidence: '0.8' });
    // a Dial action: how the dial ended is stored, and a dial nobody takes returns to the conversation
    expect(transfer).toMatch(
      new RegExp(
        `<Say[^>]*>Let me get you a person.</Say><Dial action="[^"]*/transfer\\?record_id=[^"]+" method="POST" callerId="\\${ourNumber}"><Number>\\+14155550111</Number></Dial>`,
      ),
    );
    expect(transfer).not.toContain('<Gather');

    const other = fakeSid('CA');
    await ring(other);
    agent.reply = () => ({ digits: '1w2', play: 'https://cdn.example.com/chime.mp3' });
    const digits = await gather(other, 1, { SpeechResult: 'press one for me', Confidence: '0.8' });
    expect(digits).toMatch(/<Play>https:\/\/cdn.example.com\/chime.mp3<\/Play><Play digits="1w2"\/><Gather /);
    agent.reply = () => ({ say: 'Bye now.', hangup: true });
    expect(await gather(other, 2, { SpeechResult: 'thanks', Confidence: '0.8' })).toMatch(/>Bye now.<\/Say><Hangup\/><\/Response>$/);
  });

  it('ends politely on an end phrase without asking the agent', async () => {
    const sid = fakeSid('CA');
    await ring(sid);
    const xml = await gather(sid, 1, { SpeechResult: 'OK, Goodbye!', Confidence: '0.9' });
    expect(xml).toMatch(/>Thank you for calling. Goodbye.<\/Say><Hangup\/>/);
    expect(turnsOf(sid)).toHaveLength(0);
  });

  it('treats silence as a turn and hangs up politely at the silence limit', async () => {
    const sid = fakeSid('CA');
    await ring(sid);
    agent.reply = () => ({ say: 'Are you still there?' });
    const first = await gather(sid, 1);
    expect(first).toContain('>Are you still there?</Say>');
    expect(turnsOf(sid)[0].body.input).toEqual({ speech: null, confidence: null, digits: null });
    const second = await gather(sid, 2, { SpeechResult: '' });
    expect(second).toMatch(/>Thank you for calling. Goodbye.<\/Say><Hangup\/>/);
    expect(turnsOf(sid)).toHaveLength(1);
  });

  it('speaks a fallback and listens again when the agent is late, and gives up politely the second time', async () => {
    const sid = fakeSid('CA');
    await ring(sid);
    agent.delayMs = AGENT_TIMEOUT_MS + 300;
    const started = Date.now();
    const first = await gather(sid, 1, { SpeechResult: 'hello?', Confidence: '0.7' });
    expect(Date.now() - started).toBeLessThan(AGENT_TIMEOUT_MS + 1000);
    expect(first).toContain(">Sorry, I'm having a little trouble. Could you say that again?</Say>");
    expect(actionOf(first)).toMatch(/step=2$/);
    agent.delayMs = 0;
    agent.status = 500;
    const second = await gather(sid, 2, { SpeechResult: 'hello??', Confidence: '0.7' });
    expect(second).toMatch(/>I'm sorry, I can't help right now. Please call again later. Goodbye.<\/Say><Hangup\/>/);
  });

  it('ends after max_turns with the agent answer and a goodbye', async () => {
    const sid = fakeSid('CA');
    await ring(sid);
    let last = '';
    for (let step = 1; step <= 6; step++) last = await gather(sid, step, { SpeechResult: `turn ${step}`, Confidence: '0.9' });
    expect(last).toMatch(/>OK. Thank you for calling. Goodbye.<\/Say><Hangup\/>/);
    expect(turnsOf(sid)).toHaveLength(6);
  });

  it("sends a call's turns to the agent on one kept connection", async () => {
    const sid = fakeSid('CA');
    await ring(sid);
    for (let step = 1; step <= 3; step++)
      expect(await gather(sid, step, { SpeechResult: `turn ${step}`, Confidence: '0.9' })).toContain('>OK.</Say>');
    const ports = turnsOf(sid).map((turn) => turn.remotePort);
    expect(ports).toHaveLength(3);
    expect(new Set(ports).size).toBe(1);
  });

  it('sends a turn again on a new connection when the agent closes the kept one as it goes out', async () => {
    const sid = fakeSid('CA');
    await ring(sid);
    expect(await gather(sid, 1, { SpeechResult: 'turn 1', Confidence: '0.9' })).toContain('>OK.</Say>');
    agent.closeNextKeptConnection = true;
    agent.reply = () => ({ say: 'Still here.' });
    expect(await gather(sid, 2, { SpeechResult: 'turn 2', Confidence: '0.9' })).toContain('>Still here.</Say>');
    expect(agent.closeNextKeptConnection).toBe(false);
    const [first, second] = turnsOf(sid);
    expect(second.headers['webhook-id']).toBe(`turn_${sid}_2`);
    expect(second.remotePort).not.toBe(first.remotePort);
  });

  it('ends politely once the call has lasted max_duration_seconds, without asking the agent', async () => {
    const short = await api('POST', '/api/phone/assistants', {
      name: 'Short calls',
      agent_url: agent.url,
      greeting: 'Hello.',
      limits: { max_duration_seconds: 10 },
    });
    expect(short.status, JSON.stringify(short.body)).toBe(201);
    agent.secret = short.body.secret;
    const bought = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550187' });
    expect((await api('PATCH', `/api/phone/numbers/${bought.body.sid}`, { assistant_id: short.body.id })).status).toBe(200);
    try {
      const sid = fakeSid('CA');
      const ringing = await postWebhook(t, 'call', {
        CallSid: sid,
        From: CALLER,
        To: bought.body.phone_number,
        CallStatus: 'ringing',
        Direction: 'inbound',
      });
      expect(await ringing.text()).toContain('>Hello.</Say>');
      const talk = (step: number, speech: string) =>
        postWebhook(
          t,
          'gather',
          { CallSid: sid, From: CALLER, To: bought.body.phone_number, SpeechResult: speech, Confidence: '0.9' },
          { query: `?step=${step}` },
        ).then((res) => res.text());
      expect(await talk(1, 'How long is the wait?')).toContain('>OK.</Say>');
      expect(turnsOf(sid)).toHaveLength(1);
      // eleven seconds into the call (its start moved back instead of waiting)
      const db = t.app.get(DataSource);
      await db.query(`UPDATE call_turns SET created_at = created_at - interval '11 seconds' WHERE call_sid = $1`, [sid]);
      await db.query(`UPDATE call_records SET start_time = start_time - interval '11 seconds' WHERE sid = $1`, [sid]);
      expect(await talk(2, 'And after that?')).toMatch(/>Thank you for calling. Goodbye.<\/Say><Hangup\/><\/Response>$/);
      expect(turnsOf(sid)).toHaveLength(1);
    } finally {
      agent.secret = assistant.secret;
    }
  });

  it('signs turns with the old and the new secret during a rotation overlap, and with the new one only after it', async () => {
    const rotating = await api('POST', '/api/phone/assistants', { name: 'Rotating', agent_url: agent.url, greeting: 'Hi.' });
    expect(rotating.status).toBe(201);
    const oldSecret = rotating.body.secret as string;
    const bought = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550186' });
    expect((await api('PATCH', `/api/phone/numbers/${bought.body.sid}`, { assistant_id: rotating.body.id })).status).toBe(200);
    const rotated = await api('POST', `/api/phone/assistants/${rotating.body.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    const sid = fakeSid('CA');
    await postWebhook(t, 'call', { CallSid: sid, From: CALLER, To: bought.body.phone_number, CallStatus: 'ringing', Direction: 'inbound' });
    const talk = (step: number) =>
      postWebhook(
        t,
        'gather',
        { CallSid: sid, From: CALLER, To: bought.body.phone_number, SpeechResult: `turn ${step}`, Confidence: '0.9' },
        { query: `?step=${step}` },
      );
    /** Whether the agent's copy of the turn verifies with `secret` (Standard Webhooks library, as an agent would). */
    const verifiesWith = (turn: AgentTurn, secret: string) => {
      try {
        new Webhook(secret).verify(JSON.stringify(turn.body), turn.headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    };

    expect((await talk(1)).status).toBe(200);
    const during = turnsOf(sid)[0];
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifiesWith(during, oldSecret)).toBe(true);
    expect(verifiesWith(during, newSecret)).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, SECRET_OVERLAP_SECONDS * 1000 + 200));
    expect((await talk(2)).status).toBe(200);
    const after = turnsOf(sid)[1];
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifiesWith(after, newSecret)).toBe(true);
    expect(verifiesWith(after, oldSecret)).toBe(false);
  });

  it('hangs up, keeping what the caller said, when the assistant was deleted during the call', async () => {
    const created = await api('POST', '/api/phone/assistants', { name: 'Short-lived', agent_url: agent.url, greeting: 'Hello.' });
    const bought = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550189' });
    expect((await api('PATCH', `/api/phone/numbers/${bought.body.sid}`, { assistant_id: created.body.id })).status).toBe(200);
    const sid = fakeSid('CA');
    const res = await postWebhook(t, 'call', {
      CallSid: sid,
      From: CALLER,
      To: bought.body.phone_number,
      CallStatus: 'ringing',
      Direction: 'inbound',
    });
    expect(await res.text()).toContain('>Hello.</Say>');
    expect((await api('PATCH', `/api/phone/numbers/${bought.body.sid}`, { assistant_id: null })).status).toBe(200);
    expect((await api('DELETE', `/api/phone/assistants/${created.body.id}`)).status).toBe(200);

    const heard = { SpeechResult: 'Are you there?', Confidence: '0.9' };
    const answer = await gather(sid, 1, heard, 'tok-deleted');
    expect(answer).toMatch(/<Hangup\/><\/Response>$/);
    // Twilio's retry gets the same answer at once, not after waiting for an agent
    const started = Date.now();
    expect(await gather(sid, 1, heard, 'tok-deleted')).toBe(answer);
    expect(Date.now() - started).toBeLessThan(AGENT_TIMEOUT_MS);
    expect(turnsOf(sid)).toHaveLength(0);
    const call = await api('GET', `/api/phone/calls/${sid}`);
    expect(call.body.transcript.map((e: JsonBody) => [e.role, e.text])).toEqual([
      ['assistant', 'Hello.'],
      ['caller', 'Are you there?'],
    ]);
  });

  it('applies a change made through another instance to its turns within ASSISTANT_CACHE_MS, and its own at once', async () => {
    const other = await new AgentServer().start();
    other.secret = assistant.secret;
    other.reply = () => ({ say: 'The other agent.' });
    const db = t.app.get(DataSource);
    try {
      const sid = fakeSid('CA');
      await ring(sid);
      expect(await gather(sid, 1, { SpeechResult: 'One.' })).toContain('>OK.</Say>');
      // another instance moves the assistant to another agent: this one's turns follow within the cache time
      await db.query('UPDATE assistants SET agent_url = $1 WHERE id = $2', [other.url, assistant.id]);
      let step = 2;
      await eventually(async () => (await gather(sid, step++, { SpeechResult: 'Again.' })).includes('The other agent.'), 4_000, 700);
      expect(other.turns.filter((turn) => turn.body.call.sid === sid).length).toBeGreaterThan(0);
      // a change made here applies to the very next turn
      expect((await api('PATCH', `/api/phone/assistants/${assistant.id}`, { agent_url: agent.url })).status).toBe(200);
      expect(await gather(sid, step, { SpeechResult: 'And now?' })).toMatch(/>OK\.[ <]/);
    } finally {
      await db.query('UPDATE assistants SET agent_url = $1 WHERE id = $2', [agent.url, assistant.id]);
      await other.stop();
    }
  });

  it('hangs up on a Gather result for a call sid no call can have, storing nothing', async () => {
    const res = await postWebhook(
      t,
      'gather',
      { CallSid: `CA${'f'.repeat(40)}`, From: CALLER, To: ourNumber, SpeechResult: 'Hi' },
      { query: '?step=1' },
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<Hangup\/><\/Response>$/);
  });

  it('treats an agent answer it cannot use as a failure', async () => {
    const sid = fakeSid('CA');
    await ring(sid);
    agent.reply = () => ({ say: 42 });
    expect(await gather(sid, 1, { SpeechResult: 'hi', Confidence: '0.9' })).toContain('Could you say that again?');
  });
});

describe('POST calls/{sid}/say', () => {
  it('answers 409 on a call that is not live, and 400 naming a bad field', async () => {
    const sid = fakeSid('CA');
    await ring(sid);
    const notLive = await api('POST', `/api/phone/calls/${sid}/say`, { text: 'Hello' });
    expect(notLive.status).toBe(409);
    const bad = await api('POST', `/api/phone/calls/${sid}/say`, { text: '' });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['text']);
    expect((await api('POST', `/api/phone/calls/${sid}/say`, { text: 'Hello' }, t.token(['phone:view']))).status).toBe(403);
  });
});

describe('POST call with assistant_id', () => {
  it('refuses it with message, twiml or voice, and an unknown assistant', async () => {
    const both = await api('POST', '/api/phone/call', { to: '+14155550100', assistant_id: assistant.id, message: 'hi' });
    expect(both.status).toBe(400);
    expect(fieldsOf(both.body)).toEqual(expect.arrayContaining(['assistant_id', 'message']));
    const voice = await api('POST', '/api/phone/call', { to: '+14155550100', assistant_id: assistant.id, voice: 'man' });
    expect(voice.status).toBe(400);
    expect(fieldsOf(voice.body)).toEqual(['voice']);
    const unknown = await api('POST', '/api/phone/call', { to: '+14155550100', assistant_id: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.status).toBe(404);
    expect(fieldsOf(unknown.body)).toEqual(['assistant_id']);
  });
});

describe('an outbound conversation through the sandbox', () => {
  it('speaks the first message when answered, then listens; silent turns reach the agent until the silence limit', async () => {
    const outbound = await api('POST', '/api/phone/assistants', {
      name: 'Reminder caller',
      agent_url: agent.url,
      first_message: 'Hi, this is Bright Dental calling about your appointment.',
      limits: { silence_limit: 2 },
    });
    agent.secret = outbound.body.secret;
    agent.reply = () => ({ say: 'Are you there?' });
    try {
      const placed = await api('POST', '/api/phone/call', {
        to: '+14155550123',
        assistant_id: outbound.body.id,
        metadata: { campaign: 'reminders' },
      });
      expect(placed.status, JSON.stringify(placed.body)).toBe(201);
      expect(placed.body).toMatchObject({ assistant_id: outbound.body.id, message: null, twiml: null, voice: 'alice', language: 'en-US' });
      const sid = placed.body.sid as string;
      const ended = await eventually(async () => {
        const res = await api('GET', `/api/phone/calls/${sid}`);
        return res.body.status === 'completed' ? res.body : null;
      }, 20_000);
      expect(ended.transcript.map((e: JsonBody) => [e.role, e.text])).toEqual([
        ['assistant', 'Hi, this is Bright Dental calling about your appointment.'],
        ['caller', null],
        ['assistant', 'Are you there?'],
        ['caller', null],
        ['assistant', 'Thank you for calling. Goodbye.'],
      ]);
      const [turn] = turnsOf(sid);
      expect(turn.verified).toBe(true);
      expect(turn.body).toMatchObject({
        turn: 1,
        call: { sid, direction: 'outbound', metadata: { campaign: 'reminders' } },
        metadata: { campaign: 'reminders' },
      });
      // what the callee heard, as the sandbox ran it
      const said = t.sandbox
        .calls()
        .find((c) => c.sid === sid)!
        .executed.filter((v) => v.verb === 'Say')
        .map((v) => v.text);
      expect(said).toEqual([
        'Hi, this is Bright Dental calling about your appointment.',
        'Are you there?',
        'Thank you for calling. Goodbye.',
      ]);
    } finally {
      agent.secret = assistant.secret;
    }
  });
});

describe('an SMS conversation', () => {
  const TEXTER = '+14155550166';

  async function text(body: string): Promise<string> {
    const res = await postWebhook(t, 'sms', { MessageSid: fakeSid('SM'), From: TEXTER, To: ourNumber, Body: body, NumSegments: '1' });
    expect(res.status).toBe(200);
    return res.text();
  }

  const smsTurns = () => agent.turns.filter((turn) => turn.body.channel === 'sms');
  const repliesTo = async (to: string) =>
    (await api('GET', `/api/phone/sms/history?to=${encodeURIComponent(to)}&direction=outbound`)).body.messages as JsonBody[];

  it('sends each text to the agent with the thread, and sends its say as a stored SMS reply', async () => {
    agent.reply = (body) => ({ say: body.turn === 1 ? 'Hi! Tuesday 10am or 2pm?' : 'Booked for Tuesday at 2pm.' });
    const first = await text('Can I book a cleaning on Tuesday?');
    expect(first).not.toContain('<Message>');
    await eventually(async () => (await repliesTo(TEXTER)).length === 1);
    await text('2pm please');
    const replies = await eventually(async () => {
      const sent = await repliesTo(TEXTER);
      return sent.length === 2 ? sent : null;
    });
    expect(replies.map((m) => [m.from, m.body, m.created_by])).toEqual([
      [ourNumber, 'Booked for Tuesday at 2pm.', `assistant:${assistant.id}`],
      [ourNumber, 'Hi! Tuesday 10am or 2pm?', `assistant:${assistant.id}`],
    ]);
    const [one, two] = smsTurns();
    expect(one.verified).toBe(true);
    expect(one.body).toMatchObject({
      type: 'conversation.turn',
      channel: 'sms',
      assistant_id: assistant.id,
      turn: 1,
      input: { text: 'Can I book a cleaning on Tuesday?' },
    });
    expect(one.body.message).toMatchObject({
      direction: 'inbound',
      from: TEXTER,
      to: ourNumber,
      body: 'Can I book a cleaning on Tuesday?',
    });
    expect(two.body.transcript).toEqual([
      { role: 'caller', text: 'Can I book a cleaning on Tuesday?' },
      { role: 'assistant', text: 'Hi! Tuesday 10am or 2pm?' },
      { role: 'caller', text: '2pm please' },
    ]);
  });

  it('stores each text and each answer as turns: the transcript is GET conversations/sms', async () => {
    const texter = '+14155550167';
    const send = (body: string, sid = fakeSid('SM')) =>
      postWebhook(t, 'sms', { MessageSid: sid, From: texter, To: ourNumber, Body: body, NumSegments: '1' });
    agent.reply = (body) => ({ say: body.turn === 1 ? 'Which day suits you?' : 'Friday at 9 is yours.' });
    const firstSid = fakeSid('SM');
    expect((await send('I need a checkup', firstSid)).status).toBe(200);
    expect((await send('Friday morning')).status).toBe(200);
    const conversation = await eventually(async () => {
      const res = await api('GET', `/api/phone/conversations/sms?number=${encodeURIComponent(texter)}`);
      expect(res.status).toBe(200);
      return res.body.transcript.length === 4 && res.body.transcript.every((e: JsonBody) => e.message_sid) ? res.body : null;
    });
    expect(conversation.number).toBe(texter);
    expect(conversation.transcript.map((e: JsonBody) => [e.role, e.text, e.our_number, e.assistant_id])).toEqual([
      ['caller', 'I need a checkup', ourNumber, assistant.id],
      ['assistant', 'Which day suits you?', ourNumber, assistant.id],
      ['caller', 'Friday morning', ourNumber, assistant.id],
      ['assistant', 'Friday at 9 is yours.', ourNumber, assistant.id],
    ]);
    expect(conversation.transcript[0].message_sid).toBe(firstSid);
    expect(conversation.transcript[0].agent_latency_ms).toEqual(expect.any(Number));
    // the reply's message_sid is the SMS that was sent
    const sent = (await api('GET', `/api/phone/sms/history?to=${encodeURIComponent(texter)}&direction=outbound`)).body
      .messages as JsonBody[];
    expect(sent.map((m) => m.sid)).toEqual(
      expect.arrayContaining([conversation.transcript[1].message_sid, conversation.transcript[3].message_sid]),
    );
    // the agent's transcript is the stored turns
    const [, second] = agent.turns.filter((turn) => turn.body.channel === 'sms' && turn.body.message?.from === texter);
    expect(second.body).toMatchObject({ turn: 2 });
    expect(second.body.transcript).toEqual([
      { role: 'caller', text: 'I need a checkup' },
      { role: 'assistant', text: 'Which day suits you?' },
      { role: 'caller', text: 'Friday morning' },
    ]);

    // narrowed to our number, limited to the latest turns
    const latest = await api(
      'GET',
      `/api/phone/conversations/sms?number=${encodeURIComponent(texter)}&our_number=${encodeURIComponent(ourNumber)}&limit=2`,
    );
    expect(latest.body.transcript.map((e: JsonBody) => e.text)).toEqual(['Friday morning', 'Friday at 9 is yours.']);
    const elsewhere = await api('GET', `/api/phone/conversations/sms?number=${encodeURIComponent(texter)}&our_number=%2B14155550100`);
    expect(elsewhere.body.transcript).toEqual([]);
    const bad = await api('GET', '/api/phone/conversations/sms?number=12345');
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['number']);
    expect(
      (await api('GET', `/api/phone/conversations/sms?number=${encodeURIComponent(texter)}`, undefined, t.token(['phone:view']))).status,
    ).toBe(200);
    expect(
      (await api('GET', `/api/phone/conversations/sms?number=${encodeURIComponent(texter)}`, undefined, t.token(['phone:sms']))).status,
    ).toBe(403);
  });

  it('applies STOP first: the opt-out is answered as always and the agent hears nothing more', async () => {
    const before = smsTurns().length;
    const stop = await text('STOP');
    expect(stop).toContain('<Response');
    await text('are you there?');
    expect(smsTurns()).toHaveLength(before);
  });
});
