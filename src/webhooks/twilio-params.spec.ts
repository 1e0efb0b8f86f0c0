import {
  amdEvent,
  classifyStatusCallback,
  dialEvent,
  callObservationOf,
  intParam,
  mediaUrlsOf,
  messageObservationOf,
  normalizeParams,
  recordingOf,
  smsKeyword,
} from './twilio-params';

describe('classifyStatusCallback', () => {
  it('tells recording, message and call callbacks apart by their parameters', () => {
    const rec = classifyStatusCallback({ CallSid: 'CA1', CallStatus: 'completed', RecordingSid: 'RE1', RecordingStatus: 'completed' });
    expect(rec).toEqual({ kind: 'recording_status', sid: 'RE1', dedupeKey: 'recording_status|CA1|completed||RE1' });
    const msg = classifyStatusCallback({ MessageSid: 'SM1', MessageStatus: 'sent', SmsSid: 'SM1', SmsStatus: 'sent' });
    expect(msg).toEqual({ kind: 'message_status', sid: 'SM1', dedupeKey: 'message_status|SM1|sent' });
    const call = classifyStatusCallback({ CallSid: 'CA1', CallStatus: 'ringing', SequenceNumber: '1' });
    expect(call).toEqual({ kind: 'call_status', sid: 'CA1', dedupeKey: 'call_status|CA1|ringing|1' });
    expect(classifyStatusCallback({ CallSid: 'CA1', AnsweredBy: 'human' })).toBeNull();
  });

  it('gives different events different keys and retries the same key', () => {
    const a = classifyStatusCallback({ CallSid: 'CA1', CallStatus: 'completed', SequenceNumber: '3', Timestamp: 'x' });
    const b = classifyStatusCallback({ CallSid: 'CA1', CallStatus: 'completed', SequenceNumber: '3', Timestamp: 'y' });
    const c = classifyStatusCallback({ CallSid: 'CA1', CallStatus: 'completed', SequenceNumber: '4' });
    expect(a!.dedupeKey).toBe(b!.dedupeKey);
    expect(a!.dedupeKey).not.toBe(c!.dedupeKey);
  });
});

describe('observations', () => {
  it('reads a call callback, ignoring an unknown status', () => {
    expect(
      callObservationOf({ CallStatus: 'completed', SequenceNumber: '3', CallDuration: '15', Timestamp: 'Tue, 31 Aug 2010 20:36:44 +0000' }),
    ).toEqual({
      status: 'completed',
      sequence: 3,
      occurredAt: new Date('2010-08-31T20:36:44Z'),
      startTime: undefined,
      endTime: new Date('2010-08-31T20:36:44Z'),
      durationSeconds: 15,
      answeredBy: undefined,
      errorCode: undefined,
    });
    expect(callObservationOf({ CallStatus: 'initiated', Timestamp: 'Tue, 31 Aug 2010 20:36:29 +0000' })).toMatchObject({
      startTime: new Date('2010-08-31T20:36:29Z'),
      endTime: undefined,
    });
    expect(callObservationOf({ CallStatus: 'ringing', Timestamp: 'Tue, 31 Aug 2010 20:36:30 +0000' })).toMatchObject({
      startTime: undefined,
      endTime: undefined,
    });
    expect(callObservationOf({ CallStatus: 'exploded' }).status).toBeUndefined();
  });

  it('reads a recording callback', () => {
    expect(
      recordingOf({
        CallSid: 'CA1',
        RecordingSid: 'RE1',
        RecordingStatus: 'completed',
        RecordingDuration: '7',
        RecordingChannels: '2',
        RecordingUrl: 'https://x/RE1',
        RecordingSource: 'OutboundAPI',
      }),
    ).toMatchObject({
      sid: 'RE1',
      callSid: 'CA1',
      status: 'completed',
      durationSeconds: 7,
      channels: 2,
      url: 'https://x/RE1',
      source: 'OutboundAPI',
      startedAt: null,
    });
    expect(recordingOf({ RecordingSid: 'RE1' })).toBeNull();
  });

  it('collects MediaUrl0..N in order', () => {
    expect(mediaUrlsOf({ NumMedia: '2', MediaUrl0: 'a', MediaUrl1: 'b' })).toEqual(['a', 'b']);
    expect(mediaUrlsOf({ NumMedia: '0' })).toEqual([]);
  });

  it('turns a JSON body into string parameters', () => {
    expect(normalizeParams({ A: 1, B: true, C: 'x', D: null, E: ['1', 2] })).toEqual({ A: '1', B: 'true', C: 'x', E: ['1', '2'] });
    expect(normalizeParams(undefined)).toEqual({});
  });

  it('replaces characters the database cannot store, in names and values', () => {
    expect(normalizeParams({ Body: 'a\u0000b\ud800', 'X\u0000': 'y', E: ['\udc00'] })).toEqual({
      Body: 'a\ufffdb\ufffd',
      'X\ufffd': 'y',
      E: ['\ufffd'],
    });
  });
});

describe('integers that do not fit their columns', () => {
  it.each(['99999999999999999999', '2147483648', '-1', '1e20', '12abc', '9007199254740993'])('%s is dropped', (value) => {
    expect(intParam({ N: value }, 'N')).toBeUndefined();
  });

  it('keeps the ones that fit', () => {
    expect(intParam({ N: '2147483647' }, 'N')).toBe(2_147_483_647);
    expect(intParam({ N: ' 0 ' }, 'N')).toBe(0);
    expect(intParam({ N: '-1' }, 'N', { min: -1, max: 10 })).toBe(-1);
  });

  it('leaves the rest of the callback readable', () => {
    const huge = '99999999999999999999';
    expect(callObservationOf({ CallStatus: 'completed', SequenceNumber: huge, CallDuration: huge, ErrorCode: huge })).toMatchObject({
      status: 'completed',
      sequence: undefined,
      durationSeconds: undefined,
      errorCode: undefined,
    });
    expect(messageObservationOf({ MessageStatus: 'failed', ErrorCode: huge })).toMatchObject({ status: 'failed', errorCode: undefined });
    expect(
      recordingOf({
        CallSid: 'CA1',
        RecordingSid: 'RE1',
        RecordingStatus: 'in-progress',
        RecordingDuration: '-1',
        RecordingChannels: huge,
      }),
    ).toMatchObject({
      durationSeconds: null,
      channels: null,
    });
    expect(mediaUrlsOf({ NumMedia: huge, MediaUrl0: 'a' })).toEqual(['a']);
  });
});

describe('smsKeyword', () => {
  it.each([
    ['STOP', 'stop'],
    ['  stopall ', 'stop'],
    ['Unsubscribe', 'stop'],
    ['cancel', 'stop'],
    ['END', 'stop'],
    ['quit', 'stop'],
    ['start', 'start'],
    ['UNSTOP', 'start'],
    ['yes', 'start'],
    ['help', 'help'],
    [' Info', 'help'],
  ])('%s is %s', (body, action) => {
    expect(smsKeyword(body)?.action).toBe(action);
  });

  it('only matches the whole body', () => {
    expect(smsKeyword('please stop')).toBeNull();
    expect(smsKeyword('STOP it')).toBeNull();
    expect(smsKeyword('')).toBeNull();
  });
});

describe('parameters a column cannot hold', () => {
  it('drops a Timestamp or RecordingStartTime outside 1970..9999 and cuts a long AnsweredBy', () => {
    const seen = callObservationOf({ CallStatus: 'completed', Timestamp: '-100000-01-01T00:00:00Z', AnsweredBy: 'm'.repeat(40) });
    expect(seen.occurredAt).toBeUndefined();
    expect(seen.endTime).toBeUndefined();
    expect(seen.answeredBy).toBe('m'.repeat(32));
    expect(callObservationOf({ CallStatus: 'completed', Timestamp: '+275000-01-01T00:00:00Z' }).occurredAt).toBeUndefined();
    const rec = recordingOf({
      RecordingSid: 'RE1',
      CallSid: 'CA1',
      RecordingStatus: 'completed',
      RecordingStartTime: '-100000-01-01T00:00:00Z',
    });
    expect(rec!.startedAt).toBeNull();
    expect(callObservationOf({ CallStatus: 'completed', Timestamp: 'Tue, 31 Aug 2010 20:36:44 +0000' }).occurredAt).toEqual(
      new Date('2010-08-31T20:36:44Z'),
    );
  });
});

describe('amdEvent and dialEvent', () => {
  it('key a detection result on the call and what answered, so a retry is the same event', () => {
    expect(amdEvent({ CallSid: 'CA1', AnsweredBy: 'machine_end_beep', MachineDetectionDuration: '4200' })).toEqual({
      kind: 'call_amd',
      sid: 'CA1',
      dedupeKey: 'call_amd|CA1|machine_end_beep',
      answeredBy: 'machine_end_beep',
    });
    expect(amdEvent({ CallSid: 'CA1' })).toBeNull();
  });

  it('read a Dial action: status, the dialed leg and its talk time, and whether the call itself had ended', () => {
    const action = { CallSid: 'CA1', DialCallStatus: 'completed', DialCallSid: 'CA2', DialCallDuration: '42', CallStatus: 'in-progress' };
    expect(dialEvent(action)).toEqual({
      kind: 'call_dial',
      sid: 'CA1',
      dedupeKey: 'call_dial|CA1|completed|CA2',
      status: 'completed',
      dialCallSid: 'CA2',
      durationSeconds: 42,
      callEnded: false,
    });
    expect(dialEvent({ ...action, CallStatus: 'completed' })).toMatchObject({ status: 'completed', callEnded: true });
    // the greeting's forward: its own kind, so a replay from the inbox goes back to the forward
    expect(dialEvent(action, 'call_forward')).toMatchObject({ kind: 'call_forward', dedupeKey: 'call_forward|CA1|completed|CA2' });
    expect(dialEvent({ CallSid: 'CA1', DialCallStatus: 'no-answer' })).toMatchObject({ dialCallSid: null, durationSeconds: null });
    expect(dialEvent({ CallSid: 'CA1' })).toBeNull();
  });
});
