import { CallReportFacts, TWILIO_TIME_LIMIT_SECONDS, callCost, callOutcome, endedBy, reportSettlement, twimlEndOf } from './call-report';

const END = new Date('2026-12-07T10:00:00Z');
const SETTLE = 300;

function facts(overrides: Partial<CallReportFacts> = {}): CallReportFacts {
  return {
    sid: `CA${'a'.repeat(32)}`,
    status: 'completed',
    answeredBy: null,
    durationSeconds: 61,
    endTime: END,
    updatedAt: END,
    price: null,
    priceUnit: null,
    hangupRequestedAt: null,
    direction: 'outbound',
    twimlEndsAs: null,
    record: false,
    twiml: null,
    recordingStatuses: [],
    ...overrides,
  };
}

const at = (seconds: number) => new Date(END.getTime() + seconds * 1000);

describe('callOutcome', () => {
  it('is the terminal status, voicemail for a completed call a machine answered, null in flight', () => {
    expect(callOutcome('completed', null)).toBe('completed');
    expect(callOutcome('completed', 'human')).toBe('completed');
    expect(callOutcome('completed', 'machine_start')).toBe('voicemail');
    expect(callOutcome('completed', 'machine_end_beep')).toBe('voicemail');
    expect(callOutcome('no-answer', 'machine_start')).toBe('no-answer');
    for (const status of ['busy', 'no-answer', 'failed', 'canceled']) expect(callOutcome(status, null)).toBe(status);
    for (const status of ['initiating', 'unknown', 'queued', 'ringing', 'in-progress']) expect(callOutcome(status, null)).toBeNull();
  });
});

describe('endedBy', () => {
  it('is api when our hangup ended it, whatever the status it ended in', () => {
    expect(endedBy(facts({ hangupRequestedAt: END }))).toBe('api');
    expect(endedBy(facts({ status: 'canceled', hangupRequestedAt: END }))).toBe('api');
  });

  it('is timeout for no-answer and for a call cut by the 4-hour limit, callee for busy', () => {
    expect(endedBy(facts({ status: 'no-answer' }))).toBe('timeout');
    expect(endedBy(facts({ durationSeconds: TWILIO_TIME_LIMIT_SECONDS }))).toBe('timeout');
    expect(endedBy(facts({ status: 'busy' }))).toBe('callee');
  });

  it('infers an answered call from the TwiML served last: ours when it ends the call, the other party when it waits', () => {
    expect(endedBy(facts({ twimlEndsAs: 'api' }))).toBe('api');
    expect(endedBy(facts({ twimlEndsAs: 'timeout' }))).toBe('timeout');
    expect(endedBy(facts({ twimlEndsAs: 'remote' }))).toBe('callee');
    expect(endedBy(facts({ twimlEndsAs: 'remote', direction: 'inbound' }))).toBe('caller');
    // a transfer's Dial action said the dialed party left the bridge, whatever the call's direction
    expect(endedBy(facts({ twimlEndsAs: 'target' }))).toBe('transfer_target');
    expect(endedBy(facts({ twimlEndsAs: 'target', direction: 'inbound' }))).toBe('transfer_target');
    // our hangup and Twilio's time limit come first
    expect(endedBy(facts({ twimlEndsAs: 'remote', hangupRequestedAt: END }))).toBe('api');
    expect(endedBy(facts({ twimlEndsAs: 'remote', durationSeconds: TWILIO_TIME_LIMIT_SECONDS }))).toBe('timeout');
    // a call that never connected ended the way its status says
    expect(endedBy(facts({ status: 'busy', twimlEndsAs: 'api' }))).toBe('callee');
  });

  it('is unknown where Twilio does not say who hung up, null in flight', () => {
    expect(endedBy(facts())).toBe('unknown');
    expect(endedBy(facts({ status: 'failed' }))).toBe('unknown');
    expect(endedBy(facts({ status: 'in-progress', hangupRequestedAt: END }))).toBeNull();
  });
});

describe('twimlEndOf', () => {
  it('is remote for a document waiting for input, api for one that hangs up or runs out, null for a Dial', () => {
    expect(twimlEndOf('<Response><Say>Hi</Say><Gather input="speech" action="/g"/></Response>')).toBe('remote');
    expect(twimlEndOf('<Response><Record action="/r"/></Response>')).toBe('remote');
    expect(twimlEndOf('<Response><Say>Bye</Say><Hangup/></Response>')).toBe('api');
    expect(twimlEndOf('<Response><Play>https://cdn.example.com/a.mp3</Play></Response>')).toBe('api');
    expect(twimlEndOf('<Response><Dial action="/t"><Number>+14155550111</Number></Dial></Response>')).toBeNull();
  });
});

describe('reportSettlement', () => {
  it('is not final while the call is in flight', () => {
    expect(reportSettlement(facts({ status: 'in-progress', endTime: null }), at(1000), SETTLE)).toEqual({
      final: false,
      settled: false,
      settleBy: null,
    });
  });

  it('settles once Twilio priced a call that records nothing', () => {
    expect(reportSettlement(facts(), at(1), SETTLE)).toEqual({ final: true, settled: false, settleBy: at(SETTLE) });
    expect(reportSettlement(facts({ price: '-0.01700' }), at(1), SETTLE).settled).toBe(true);
  });

  it('waits for every recording of a recorded call to be final', () => {
    const recorded = facts({ price: '-0.01700', record: true });
    expect(reportSettlement(recorded, at(1), SETTLE).settled).toBe(false);
    expect(reportSettlement({ ...recorded, recordingStatuses: ['in-progress'] }, at(1), SETTLE).settled).toBe(false);
    expect(reportSettlement({ ...recorded, recordingStatuses: ['completed', 'absent'] }, at(1), SETTLE).settled).toBe(true);
    const voicemailTwiml = facts({ price: '-0.01700', twiml: '<Response><Record maxLength="30"/></Response>' });
    expect(reportSettlement(voicemailTwiml, at(1), SETTLE).settled).toBe(false);
  });

  it('expects no recording from a call nobody answered', () => {
    expect(reportSettlement(facts({ status: 'busy', record: true, price: '0' }), at(1), SETTLE).settled).toBe(true);
  });

  it('settles without price and recordings once the wait since the end is over', () => {
    const waiting = facts({ record: true });
    expect(reportSettlement(waiting, at(SETTLE - 1), SETTLE).settled).toBe(false);
    expect(reportSettlement(waiting, at(SETTLE), SETTLE).settled).toBe(true);
  });

  it('counts the wait from our last change of the record when it is earlier than Twilio’s end time (clocks apart)', () => {
    expect(reportSettlement(facts({ endTime: at(600), updatedAt: at(5) }), at(5 + SETTLE), SETTLE)).toEqual({
      final: true,
      settled: true,
      settleBy: at(5 + SETTLE),
    });
  });

  it('counts the wait from the last change when Twilio gave no end time, and settles a request Twilio never received', () => {
    expect(reportSettlement(facts({ status: 'canceled', endTime: null, updatedAt: at(10) }), at(SETTLE), SETTLE).settleBy).toEqual(
      at(10 + SETTLE),
    );
    expect(reportSettlement(facts({ sid: null, status: 'failed', endTime: null }), at(0), SETTLE).settled).toBe(true);
  });
});

describe('callCost', () => {
  it("is Twilio's price as a positive amount when reported", () => {
    expect(callCost(facts({ price: '-0.01700', priceUnit: 'USD' }), '0.0085')).toEqual({
      amount: '0.01700',
      currency: 'USD',
      source: 'twilio',
      billableMinutes: 2,
      pricing: null,
    });
  });

  it('is estimated per started minute of talk from the price list otherwise, free when nobody answered', () => {
    expect(callCost(facts({ durationSeconds: 61 }), '0.0085')).toEqual({
      amount: '0.01700',
      currency: 'USD',
      source: 'estimate',
      billableMinutes: 2,
      pricing: { voicePerMinute: '0.00850', currency: 'USD' },
    });
    expect(callCost(facts({ status: 'no-answer', durationSeconds: null }), '0.0085')?.amount).toBe('0.00000');
    expect(callCost(facts({ status: 'in-progress' }), '0.0085')).toBeNull();
  });
});
