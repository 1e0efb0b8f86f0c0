import type { AssistantsService } from '../assistants/assistants.service';
import type { CallTurnsService } from './call-turns.service';
import { AppError } from '../common/app-error';
import { AppConfig, loadConfig } from '../config/app-config';
import type { OptOutsService } from '../sms/opt-outs.service';
import { TwilioGatewayError } from '../twilio/twilio.errors';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { CallSnapshot, CallStatus, PlaceCallInput } from '../twilio/twilio.types';
import { CallRecordEntity } from './call-record.entity';
import { CallRecordRepository } from './call-record.repository';
import { CallRecordsService } from './call-records.service';
import { PlaceCallDto } from './calls.dto';
import { CallsService } from './calls.service';
import type { RecordingRepository } from './recording.repository';
import { GuardrailsService } from '../guardrails/guardrails.service';

/** The guardrails are tested on their own (src/guardrails, test/guardrails); here they let everything through. */
const admitAll = { admitStored: <T>(_request: unknown, store: (gate: null) => Promise<T>) => store(null) } as unknown as GuardrailsService;

const SID = `CA${'a'.repeat(32)}`;

function snapshot(overrides: Partial<CallSnapshot> = {}): CallSnapshot {
  return {
    sid: SID,
    direction: 'outbound',
    from: '+14155550199',
    to: '+14155550100',
    status: 'queued',
    startTime: null,
    endTime: null,
    durationSeconds: null,
    price: null,
    priceUnit: null,
    answeredBy: null,
    queueTimeMs: 0,
    dateCreated: new Date(),
    ...overrides,
  };
}

function record(overrides: Partial<CallRecordEntity> = {}): CallRecordEntity {
  const now = new Date();
  return Object.assign(new CallRecordEntity(), {
    id: '00000000-0000-4000-8000-000000000001',
    sid: SID,
    direction: 'outbound',
    fromNumber: '+14155550199',
    toNumber: '+14155550100',
    status: 'queued',
    statusSequence: -1,
    message: 'hi',
    audioUrl: null,
    twiml: null,
    voice: 'alice',
    language: 'en-US',
    record: false,
    machineDetection: false,
    timeoutSeconds: null,
    agentName: null,
    callPurpose: null,
    workflowId: null,
    createdBy: 'tester',
    startTime: null,
    endTime: null,
    durationSeconds: null,
    price: null,
    priceUnit: null,
    answeredBy: null,
    queueTimeMs: 0,
    errorCode: null,
    errorMessage: null,
    syncedAt: now,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  });
}

/** What an observation says, without the facts it leaves unknown. */
function factsOf<T extends object>(seen: T): Partial<T> {
  return Object.fromEntries(Object.entries(seen).filter(([, value]) => value !== undefined && value !== null)) as Partial<T>;
}

function setup(options: { optedOut?: boolean; refreshAfterSeconds?: number; stored?: CallRecordEntity | null } = {}) {
  const config: AppConfig = loadConfig({ NODE_ENV: 'test', SAMSAEK_TWILIO_WEBHOOK_URL: 'https://hooks.example.com/api/phone/webhook' });
  config.calls.refreshAfterSeconds = options.refreshAfterSeconds ?? 30;
  const gateway = {
    placeCall: vi.fn(async (_input: PlaceCallInput) => snapshot()),
    fetchCall: vi.fn(async () => snapshot({ status: 'completed', durationSeconds: 12, price: '-0.00850', priceUnit: 'USD' })),
    endCall: vi.fn(async (_sid: string, status: 'completed' | 'canceled') => snapshot({ status })),
  };
  const stored = options.stored === undefined ? record() : options.stored;
  let intent: Partial<CallRecordEntity> = {};
  const calls = {
    insertIntent: vi.fn(async (data: Partial<CallRecordEntity>) => record((intent = { ...data, sid: null, status: 'initiating' }))),
    // the intent as stored, with Twilio's answer: what the one completing statement returns
    completeFreshIntent: vi.fn(async (_id: string, sid: string, seen: Partial<CallRecordEntity>): Promise<CallRecordEntity | null> =>
      record({ ...intent, ...factsOf(seen), sid }),
    ),
    attachSid: vi.fn(async (_id: string, _sid: string) => true),
    deleteIntent: vi.fn(async (_id: string) => undefined),
    markIntentUnknown: vi.fn(async (_id: string) => undefined),
    recordHangupRequest: vi.fn(async (_id: string, _by: string, _at: Date) => undefined),
    clearHangupRequest: vi.fn(async (_id: string, _at: Date) => undefined),
    findBySid: vi.fn(async (): Promise<CallRecordEntity | null> => stored),
    applyObservation: vi.fn(async (_sid: string, seen: { status?: CallStatus }) =>
      record({ ...stored, status: seen.status ?? stored?.status }),
    ),
    timeline: vi.fn(async () => [{ status: 'queued', sequenceNumber: -1, source: 'api', occurredAt: new Date(), errorCode: null }]),
    listPage: vi.fn(async () => ({ items: [JSON.stringify({ sid: SID })], nextCursor: null })),
  };
  const optOuts = { isOptedOut: vi.fn(async () => options.optedOut ?? false) };
  // what the webhook inbox registers: apply the callbacks that arrived before the record
  const inbox = { applyPending: vi.fn(async (_sid: string) => 0) };
  const records = new CallRecordsService(calls as unknown as CallRecordRepository, {} as RecordingRepository);
  records.onRecordStored((sid) => inbox.applyPending(sid));
  const service = new CallsService(
    config,
    gateway as unknown as TwilioGateway,
    calls as unknown as CallRecordRepository,
    records,
    optOuts as unknown as OptOutsService,
    admitAll,
    {} as AssistantsService,
    { transcript: vi.fn(async () => []) } as unknown as CallTurnsService,
  );
  return { service, gateway, calls, optOuts, config, inbox };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

const base: PlaceCallDto = { to: '+14155550100' };

describe('CallsService.placeCall', () => {
  it('speaks a message with <Say>, defaulting voice alice and language en-US, and stores the call', async () => {
    const { service, gateway, calls } = setup();
    const { call: dto, accepted } = await service.placeCall({ ...base, message: 'Hello & welcome', agent_name: 'Bot' }, 'user-1');
    expect(accepted).toBe(false);

    const input = gateway.placeCall.mock.calls[0][0];
    expect(input.twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice" language="en-US">Hello &amp; welcome</Say></Response>',
    );
    expect(input.from).toBe('+14155550199');
    expect(input.statusCallbackUrl).toBe(
      'https://hooks.example.com/api/phone/webhook/status?record_id=00000000-0000-4000-8000-000000000001#rc=5&rp=5xx,ct,rt',
    );
    expect(input.record).toBe(false);
    expect(input.recordingStatusCallbackUrl).toBeUndefined();
    const [data] = calls.insertIntent.mock.calls[0];
    expect(data).toMatchObject({ direction: 'outbound', createdBy: 'user-1', agentName: 'Bot', message: 'Hello & welcome' });
    expect(calls.completeFreshIntent).toHaveBeenCalledWith(
      '00000000-0000-4000-8000-000000000001',
      SID,
      expect.objectContaining({ status: 'queued' }),
      'api',
    );
    expect(calls.attachSid).not.toHaveBeenCalled();
    expect(dto).toMatchObject({ sid: SID, status: 'queued', created_by: 'user-1', agent_name: 'Bot', voice: 'alice', language: 'en-US' });
  });

  it('completes the intent by its sid when a callback gave it the sid first, and answers the stored record', async () => {
    const { service, calls } = setup();
    calls.completeFreshIntent.mockResolvedValueOnce(null);
    // the callback's newer status stays: the apply answers the row as it left it
    calls.applyObservation.mockResolvedValueOnce(record({ sid: SID, status: 'ringing', message: 'hi' }));
    const { call: dto, accepted } = await service.placeCall({ ...base, message: 'hi' }, 'user-1');
    expect(calls.attachSid).toHaveBeenCalledWith('00000000-0000-4000-8000-000000000001', SID);
    expect(calls.applyObservation).toHaveBeenCalledWith(SID, expect.objectContaining({ status: 'queued' }), 'api');
    expect(accepted).toBe(false);
    expect(dto.status).toBe('ringing');
  });

  it('applies status callbacks that reached the inbox before the call was stored, and answers the updated record', async () => {
    const { service, calls, inbox } = setup();
    inbox.applyPending.mockResolvedValueOnce(2);
    calls.findBySid.mockResolvedValueOnce(record({ sid: SID, status: 'ringing' }));
    const { call: dto } = await service.placeCall({ ...base, message: 'hi' }, 'user-1');
    expect(inbox.applyPending).toHaveBeenCalledWith(SID);
    expect(dto.status).toBe('ringing');
  });

  it('accepts the guide language "en" and a custom voice', async () => {
    const { service, gateway } = setup();
    await service.placeCall({ ...base, message: 'Hi', voice: 'man', language: 'en' }, 'u');
    expect(gateway.placeCall.mock.calls[0][0].twiml).toContain('<Say voice="man" language="en">Hi</Say>');
  });

  it('plays audio_url with <Play>', async () => {
    const { service, gateway } = setup();
    await service.placeCall({ ...base, audio_url: 'https://cdn.example.com/a.mp3' }, 'u');
    expect(gateway.placeCall.mock.calls[0][0].twiml).toContain('<Play>https://cdn.example.com/a.mp3</Play>');
  });

  it('passes valid TwiML through unchanged', async () => {
    const { service, gateway } = setup();
    const twiml = '<Response><Pause length="1"/><Say>Hi</Say></Response>';
    await service.placeCall({ ...base, twiml }, 'u');
    expect(gateway.placeCall.mock.calls[0][0].twiml).toBe(twiml);
  });

  it.each([
    [{}, ['message', 'audio_url', 'twiml', 'assistant_id']],
    [{ message: 'a', twiml: '<Response/>' }, ['message', 'twiml']],
    [{ message: 'a', audio_url: 'https://x.example/a.mp3', twiml: '<Response/>' }, ['message', 'audio_url', 'twiml']],
  ])('requires exactly one of message/audio_url/twiml/assistant_id (%j)', async (content, fields) => {
    const { service, gateway } = setup();
    const error = await failure(service.placeCall({ ...base, ...content }, 'u'));
    expect(error.status).toBe(400);
    expect(error.details?.map((d) => d.field)).toEqual(fields);
    expect(gateway.placeCall).not.toHaveBeenCalled();
  });

  it.each([
    '<Response><Say>unclosed</Response>',
    '<Say>x</Say>',
    '<Response/><Response/>',
    `<Response><Say>${'x'.repeat(4000)}</Say></Response>`,
  ])('refuses bad TwiML #%$ naming twiml', async (twiml) => {
    const { service, gateway } = setup();
    const error = await failure(service.placeCall({ ...base, twiml }, 'u'));
    expect(error.status).toBe(400);
    expect(error.details?.[0].field).toBe('twiml');
    expect(gateway.placeCall).not.toHaveBeenCalled();
  });

  it('places a message whose TwiML exceeds 4000 characters with the voice webhook as its TwiML URL', async () => {
    const { service, gateway, calls } = setup();
    const message = 'word '.repeat(1800).trim();
    await service.placeCall({ ...base, message }, 'u');
    const input = gateway.placeCall.mock.calls[0][0];
    expect(input.twiml).toBeUndefined();
    expect(input.twimlUrl).toBe(
      'https://hooks.example.com/api/phone/webhook/call?record_id=00000000-0000-4000-8000-000000000001#rc=5&rp=5xx,ct,rt',
    );
    expect(calls.insertIntent.mock.calls[0][0]).toMatchObject({ message });
  });

  it('refuses an opted-out recipient before asking Twilio', async () => {
    const { service, gateway, calls } = setup({ optedOut: true });
    const error = await failure(service.placeCall({ ...base, message: 'hi' }, 'u'));
    expect(error.status).toBe(400);
    expect(error.code).toBe('recipient_opted_out');
    expect(error.details?.[0].field).toBe('to');
    expect(gateway.placeCall).not.toHaveBeenCalled();
    expect(calls.insertIntent).not.toHaveBeenCalled();
  });

  it('stores nothing when Twilio refuses the call, and the mapped error propagates', async () => {
    const { service, gateway, calls } = setup();
    gateway.placeCall.mockRejectedValueOnce(
      new TwilioGatewayError('invalid_request', 'The phone number you are attempting to call, +15005550001, is not valid.', 21217, 'to'),
    );
    const error = await failure(service.placeCall({ ...base, message: 'hi' }, 'u'));
    expect(error.status).toBe(400);
    expect(error.twilioCode).toBe(21217);
    expect(calls.deleteIntent).toHaveBeenCalledWith('00000000-0000-4000-8000-000000000001');
    expect(calls.attachSid).not.toHaveBeenCalled();
  });

  it('answers the intent with status unknown (accepted) when Twilio times out, and keeps it for reconciliation', async () => {
    const { service, gateway, calls } = setup();
    gateway.placeCall.mockRejectedValueOnce(new TwilioGatewayError('timeout', 'Twilio did not answer in time'));
    const { call, accepted } = await service.placeCall({ ...base, message: 'hi', agent_name: 'Bot' }, 'u');
    expect(accepted).toBe(true);
    expect(call).toMatchObject({
      id: '00000000-0000-4000-8000-000000000001',
      sid: null,
      status: 'unknown',
      agent_name: 'Bot',
      created_by: 'u',
    });
    expect(calls.markIntentUnknown).toHaveBeenCalledWith('00000000-0000-4000-8000-000000000001');
    expect(calls.deleteIntent).not.toHaveBeenCalled();
  });

  it('drops the intent and answers the error when the request never reached Twilio (connection refused)', async () => {
    const { service, gateway, calls } = setup();
    gateway.placeCall.mockRejectedValueOnce(
      new TwilioGatewayError('unavailable', 'Twilio could not be reached: connect ECONNREFUSED', undefined, undefined, false),
    );
    const error = await failure(service.placeCall({ ...base, message: 'hi' }, 'u'));
    expect(error.status).toBe(502);
    expect(calls.deleteIntent).toHaveBeenCalledWith('00000000-0000-4000-8000-000000000001');
  });

  it('answers 503 dependency_unavailable and never asks Twilio when the intent cannot be stored', async () => {
    const { service, gateway, calls } = setup();
    calls.insertIntent.mockRejectedValueOnce(new Error('connection terminated'));
    const error = await failure(service.placeCall({ ...base, message: 'hi' }, 'u'));
    expect(error.status).toBe(503);
    expect(error.code).toBe('dependency_unavailable');
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    expect(gateway.placeCall).not.toHaveBeenCalled();
  });

  it("answers accepted with Twilio's sid and status when storing its answer keeps failing", async () => {
    const { service, calls } = setup();
    calls.completeFreshIntent.mockRejectedValue(new Error('connection terminated'));
    const { call, accepted } = await service.placeCall({ ...base, message: 'hi' }, 'u');
    expect(accepted).toBe(true);
    expect(call).toMatchObject({ id: '00000000-0000-4000-8000-000000000001', sid: SID, status: 'queued', message: 'hi' });
    expect(calls.completeFreshIntent).toHaveBeenCalledTimes(4);
  });

  it('asks for recording callbacks on the status URL when record=true, and passes timeout and machine detection', async () => {
    const { service, gateway, calls } = setup();
    await service.placeCall({ ...base, message: 'hi', record: true, timeout: 20, machine_detection: true, from: '+14155550123' }, 'u');
    const input = gateway.placeCall.mock.calls[0][0];
    expect(input).toMatchObject({
      record: true,
      recordingStatusCallbackUrl:
        'https://hooks.example.com/api/phone/webhook/status?record_id=00000000-0000-4000-8000-000000000001#rc=5&rp=5xx,ct,rt',
      timeoutSeconds: 20,
      machineDetection: true,
      from: '+14155550123',
    });
    expect(calls.insertIntent.mock.calls[0][0]).toMatchObject({ record: true, timeoutSeconds: 20, machineDetection: true });
  });
});

describe('CallsService.getCall', () => {
  it('returns a fresh record without asking Twilio, with its timeline', async () => {
    const { service, gateway } = setup();
    const dto = await service.getCall(SID);
    expect(gateway.fetchCall).not.toHaveBeenCalled();
    expect(dto.timeline).toEqual([expect.objectContaining({ status: 'queued', sequence_number: -1, source: 'api' })]);
  });

  it('refreshes an in-flight record not synced for refreshAfterSeconds', async () => {
    const old = new Date(Date.now() - 31_000);
    const { service, gateway, calls } = setup({ stored: record({ status: 'ringing', syncedAt: old, createdAt: old }) });
    const dto = await service.getCall(SID);
    expect(gateway.fetchCall).toHaveBeenCalledWith(SID);
    expect(calls.applyObservation).toHaveBeenCalledWith(
      SID,
      expect.objectContaining({ status: 'completed', price: '-0.00850' }),
      'refresh',
    );
    expect(dto.status).toBe('completed');
  });

  it('does not refresh a record synced more recently than the threshold', async () => {
    const recent = new Date(Date.now() - 29_000);
    const { service, gateway } = setup({ stored: record({ status: 'ringing', syncedAt: recent }) });
    await service.getCall(SID);
    expect(gateway.fetchCall).not.toHaveBeenCalled();
  });

  it('does not refresh a terminal record that has its price', async () => {
    const old = new Date(Date.now() - 3_600_000);
    const { service, gateway } = setup({ stored: record({ status: 'completed', price: '-0.00850', syncedAt: old, createdAt: old }) });
    await service.getCall(SID);
    expect(gateway.fetchCall).not.toHaveBeenCalled();
  });

  it('refreshes a terminal record still missing its price, unless it is more than a day old', async () => {
    const old = new Date(Date.now() - 60_000);
    const recent = setup({ stored: record({ status: 'completed', price: null, syncedAt: old, createdAt: old }) });
    await recent.service.getCall(SID);
    expect(recent.gateway.fetchCall).toHaveBeenCalledWith(SID);

    const ancient = new Date(Date.now() - 25 * 3_600_000);
    const stale = setup({ stored: record({ status: 'completed', price: null, syncedAt: ancient, createdAt: ancient }) });
    await stale.service.getCall(SID);
    expect(stale.gateway.fetchCall).not.toHaveBeenCalled();
  });

  it('always refreshes an in-flight record when the threshold is 0', async () => {
    const { service, gateway } = setup({ refreshAfterSeconds: 0, stored: record({ status: 'in-progress' }) });
    await service.getCall(SID);
    expect(gateway.fetchCall).toHaveBeenCalledTimes(1);
  });

  it('returns the stored record when the refresh fails', async () => {
    const { service, gateway } = setup({ refreshAfterSeconds: 0, stored: record({ status: 'ringing' }) });
    gateway.fetchCall.mockRejectedValueOnce(new TwilioGatewayError('unavailable', 'down'));
    const dto = await service.getCall(SID);
    expect(dto.status).toBe('ringing');
  });

  it('answers 404 for an unknown call', async () => {
    const { service } = setup({ stored: null });
    const error = await failure(service.getCall(SID));
    expect(error.status).toBe(404);
    expect(error.code).toBe('not_found');
  });
});

describe('CallsService.hangupCall', () => {
  it('hangs up an in-progress call with completed', async () => {
    const { service, gateway } = setup({ stored: record({ status: 'in-progress' }) });
    const { call: dto } = await service.hangupCall(SID, 'agent');
    expect(gateway.endCall).toHaveBeenCalledWith(SID, 'completed');
    expect(dto.status).toBe('completed');
  });

  it.each<CallStatus>(['queued', 'initiated', 'ringing'])('cancels a %s call', async (status) => {
    const { service, gateway } = setup({ stored: record({ status }) });
    const { call: dto } = await service.hangupCall(SID, 'agent');
    expect(gateway.endCall).toHaveBeenCalledWith(SID, 'canceled');
    expect(dto.status).toBe('canceled');
  });

  it('completes a call that was answered after it was last stored as ringing', async () => {
    const { service, gateway } = setup({ stored: record({ status: 'ringing' }) });
    gateway.endCall.mockResolvedValueOnce(snapshot({ status: 'in-progress' }));
    const { call: dto } = await service.hangupCall(SID, 'agent');
    expect(gateway.endCall.mock.calls).toEqual([
      [SID, 'canceled'],
      [SID, 'completed'],
    ]);
    expect(dto.status).toBe('completed');
  });

  it.each<CallStatus>(['completed', 'busy', 'no-answer', 'failed', 'canceled'])(
    'answers 409 for a call stored as %s, without asking Twilio',
    async (status) => {
      const { service, gateway } = setup({ stored: record({ status }) });
      const error = await failure(service.hangupCall(SID, 'agent'));
      expect(error.status).toBe(409);
      expect(error.code).toBe('call_already_ended');
      expect(gateway.endCall).not.toHaveBeenCalled();
    },
  );

  it('answers 409 when Twilio reports that the call ended on its own meanwhile', async () => {
    const { service, gateway, calls } = setup({ stored: record({ status: 'ringing' }) });
    gateway.endCall.mockResolvedValueOnce(snapshot({ status: 'no-answer' }));
    const error = await failure(service.hangupCall(SID, 'agent'));
    expect(error.status).toBe(409);
    expect(calls.applyObservation).toHaveBeenCalledWith(SID, expect.objectContaining({ status: 'no-answer' }), 'api');
    // the hangup did not end it
    expect(calls.clearHangupRequest).toHaveBeenCalledWith(expect.any(String), calls.recordHangupRequest.mock.calls[0][2]);
  });

  it('refreshes and answers 409 when Twilio refuses the update because the call ended', async () => {
    const { service, gateway, calls } = setup({ stored: record({ status: 'in-progress' }) });
    gateway.endCall.mockRejectedValueOnce(new TwilioGatewayError('invalid_request', 'Call is not in-progress.', 21220));
    const error = await failure(service.hangupCall(SID, 'agent'));
    expect(error.status).toBe(409);
    expect(gateway.fetchCall).toHaveBeenCalledWith(SID);
    expect(calls.applyObservation).toHaveBeenCalledWith(SID, expect.objectContaining({ status: 'completed' }), 'refresh');
    expect(calls.clearHangupRequest).toHaveBeenCalledWith(record().id, calls.recordHangupRequest.mock.calls[0][2]);
  });

  it('records who asked before Twilio is asked, and answers with it', async () => {
    const { service, gateway, calls } = setup({ stored: record({ status: 'in-progress' }) });
    calls.recordHangupRequest.mockImplementationOnce(async () => {
      expect(gateway.endCall).not.toHaveBeenCalled();
    });
    const { accepted } = await service.hangupCall(SID, 'agent');
    expect(calls.recordHangupRequest).toHaveBeenCalledWith(expect.any(String), 'agent', expect.any(Date));
    expect(gateway.endCall).toHaveBeenCalled();
    expect(accepted).toBe(false);
  });

  it('answers 503 and leaves the call alone when the request cannot be recorded', async () => {
    const { service, gateway, calls } = setup({ stored: record({ status: 'in-progress' }) });
    calls.recordHangupRequest.mockRejectedValueOnce(new Error('database refused'));
    const error = await failure(service.hangupCall(SID, 'agent'));
    expect(error).toMatchObject({ status: 503, code: 'dependency_unavailable' });
    expect(gateway.endCall).not.toHaveBeenCalled();
  });

  it('tells that the call is ending, accepted, when Twilio ended it but the record cannot be updated', async () => {
    const { service, gateway, calls } = setup({ stored: record({ status: 'in-progress' }) });
    calls.applyObservation.mockRejectedValue(new Error('database refused'));
    const { call, accepted } = await service.hangupCall(SID, 'agent');
    expect(gateway.endCall).toHaveBeenCalledWith(SID, 'completed');
    expect(accepted).toBe(true);
    expect(call).toMatchObject({ sid: SID, status: 'completed', hangup_requested_by: 'agent' });
  });

  it('forgets the request when Twilio refuses the hangup', async () => {
    const { service, gateway, calls } = setup({ stored: record({ status: 'in-progress' }) });
    gateway.endCall.mockRejectedValueOnce(new TwilioGatewayError('auth_failed', 'no'));
    await failure(service.hangupCall(SID, 'agent'));
    expect(calls.clearHangupRequest).toHaveBeenCalled();
  });

  it('answers 404 for an unknown call', async () => {
    const { service, gateway } = setup({ stored: null });
    const error = await failure(service.hangupCall(SID, 'agent'));
    expect(error.status).toBe(404);
    expect(gateway.endCall).not.toHaveBeenCalled();
  });
});

describe('CallsService.getCallHistory', () => {
  it('maps filters and defaults the page size to 20', async () => {
    const { service, calls } = setup();
    const page = await service.getCallHistory({ status: 'completed', agent_name: 'Bot', workflow_id: 'w1', since: '2025-01-01T00:00:00Z' });
    expect(calls.listPage).toHaveBeenCalledWith(
      expect.objectContaining({ status: 'completed', agentName: 'Bot', workflowId: 'w1', since: new Date('2025-01-01T00:00:00Z') }),
      null,
      20,
    );
    expect(JSON.parse(page)).toEqual({ calls: [{ sid: SID }], next_cursor: null });
  });

  it('refuses since later than until', async () => {
    const { service, calls } = setup();
    const error = await failure(service.getCallHistory({ since: '2025-02-01T00:00:00Z', until: '2025-01-01T00:00:00Z' }));
    expect(error.status).toBe(400);
    expect(error.details?.[0].field).toBe('since');
    expect(calls.listPage).not.toHaveBeenCalled();
  });
});
