import { startTestApp, type TestApp } from '../support/test-app';
import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { api, db, fakeSid, postWebhook, wireNumber } from './webhook-helpers';

/**
 * Values Twilio never sends but a signed request can carry, for every parameter the apply path
 * reads: each must be answered 2xx and leave nothing pending in the inbox.
 */
const ODD_VALUES = [
  '',
  ' ',
  'x'.repeat(40),
  'x'.repeat(5000),
  '99999999999999999999',
  '-1',
  '1e20',
  'NaN',
  '0x10',
  '-100000-01-01T00:00:00Z',
  '+275000-01-01T00:00:00Z',
  '0001-01-01T00:00:00Z',
  'Wed, 31 Dec -0001 00:00:00 +0000',
  '\u00e9\u{1F600}',
];

const CALL_PARAMS = ['CallStatus', 'SequenceNumber', 'CallDuration', 'Timestamp', 'AnsweredBy', 'ErrorCode', 'Direction'];
const MESSAGE_PARAMS = ['MessageStatus', 'ErrorCode', 'ErrorMessage'];
const RECORDING_PARAMS = [
  'RecordingStatus',
  'RecordingUrl',
  'RecordingDuration',
  'RecordingChannels',
  'RecordingSource',
  'RecordingStartTime',
];
const SMS_PARAMS = ['From', 'To', 'Body', 'NumSegments', 'NumMedia', 'MediaUrl0'];
const VOICE_PARAMS = ['From', 'To', 'CallStatus'];

interface CallDto {
  sid: string;
  status: string;
}

describe('fuzzed callback parameters never fail the apply path', () => {
  let t: TestApp;
  let ourNumber: string;

  beforeAll(async () => {
    t = await startTestApp();
    ourNumber = await wireNumber(t);
  });
  afterAll(async () => t?.close());

  async function placed(): Promise<string> {
    const res = await api<CallDto>(t, 'POST', '/api/phone/call', { to: '+14155555555', message: 'hold on' });
    expect(res.status).toBe(201);
    return res.body.sid;
  }

  it('status, recording, voice and messaging callbacks', async () => {
    const failures: string[] = [];
    const callSid = await placed();
    const sms = await api<{ sid: string }>(t, 'POST', '/api/phone/sms', { to: '+14155550100', message: 'fuzz' });
    const account = t.sandbox.accountSid;
    let seq = 10;
    for (const name of CALL_PARAMS) {
      for (const value of ODD_VALUES) {
        const params = {
          CallSid: callSid,
          AccountSid: account,
          Direction: 'outbound-api',
          CallStatus: 'in-progress',
          SequenceNumber: String(seq++),
          [name]: value,
        };
        const res = await postWebhook(t, 'status', params);
        if (res.status !== 204) failures.push(`call ${name}=${JSON.stringify(value.slice(0, 40))}: ${res.status}`);
      }
    }
    for (const name of MESSAGE_PARAMS) {
      for (const value of ODD_VALUES) {
        const params = { MessageSid: sms.body.sid, AccountSid: account, MessageStatus: 'sent', [name]: value };
        const res = await postWebhook(t, 'status', params);
        if (res.status !== 204) failures.push(`message ${name}=${JSON.stringify(value.slice(0, 40))}: ${res.status}`);
      }
    }
    for (const name of RECORDING_PARAMS) {
      for (const value of ODD_VALUES) {
        const params = { CallSid: callSid, RecordingSid: fakeSid('RE'), AccountSid: account, RecordingStatus: 'completed', [name]: value };
        const res = await postWebhook(t, 'status', params);
        if (res.status !== 204) failures.push(`recording ${name}=${JSON.stringify(value.slice(0, 40))}: ${res.status}`);
      }
    }
    for (const name of SMS_PARAMS) {
      for (const value of ODD_VALUES) {
        const params = { MessageSid: fakeSid('SM'), AccountSid: account, From: '+14155550177', To: ourNumber, Body: 'hi', [name]: value };
        const res = await postWebhook(t, 'sms', params);
        if (res.status !== 200) failures.push(`sms ${name}=${JSON.stringify(value.slice(0, 40))}: ${res.status}`);
      }
    }
    for (const name of VOICE_PARAMS) {
      for (const value of ODD_VALUES) {
        const params = {
          CallSid: fakeSid('CA'),
          AccountSid: account,
          From: '+14155550177',
          To: ourNumber,
          Direction: 'inbound',
          CallStatus: 'ringing',
          [name]: value,
        };
        const res = await postWebhook(t, 'call', params);
        if (res.status !== 200) failures.push(`voice ${name}=${JSON.stringify(value.slice(0, 40))}: ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
    // an event whose apply failed stays unapplied (and may still be answered 2xx)
    const unapplied = await db(t).query<{ kind: string; payload: Record<string, string> }[]>(
      'SELECT kind, payload FROM webhook_events WHERE applied_at IS NULL',
    );
    expect(unapplied).toEqual([]);
    await t.app
      .get(TwilioGateway)
      .endCall(callSid, 'completed')
      .catch(() => undefined);
  });
});
