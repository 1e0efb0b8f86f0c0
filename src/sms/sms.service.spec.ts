import { AppError } from '../common/app-error';
import { AppConfig, loadConfig } from '../config/app-config';
import { MessageRecordEntity } from './message-record.entity';
import { MessageRecordRepository } from './message-record.repository';
import { MessageRecordsService } from './message-records.service';
import type { OptOutsService } from './opt-outs.service';
import { TwilioGatewayError } from '../twilio/twilio.errors';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { MessageSnapshot, MessageStatus, SendMessageInput } from '../twilio/twilio.types';
import { SmsService } from './sms.service';
import { GuardrailsService } from '../guardrails/guardrails.service';

/** The guardrails are tested on their own (src/guardrails, test/guardrails); here they let everything through. */
const admitAll = { admitStored: <T>(_request: unknown, store: (gate: null) => Promise<T>) => store(null) } as unknown as GuardrailsService;

const SID = `SM${'b'.repeat(32)}`;

function snapshot(overrides: Partial<MessageSnapshot> = {}): MessageSnapshot {
  return {
    sid: SID,
    direction: 'outbound',
    from: '+14155550199',
    to: '+14155550100',
    body: 'hi',
    status: 'queued',
    segments: 2,
    mediaCount: 0,
    errorCode: null,
    errorMessage: null,
    price: null,
    priceUnit: null,
    dateSent: null,
    dateCreated: new Date(),
    ...overrides,
  };
}

function record(overrides: Partial<MessageRecordEntity> = {}): MessageRecordEntity {
  const now = new Date();
  return Object.assign(new MessageRecordEntity(), {
    id: '00000000-0000-4000-8000-000000000002',
    sid: SID,
    direction: 'outbound',
    fromNumber: '+14155550199',
    toNumber: '+14155550100',
    body: 'hi',
    segments: 1,
    mediaUrls: [],
    status: 'queued',
    agentName: null,
    createdBy: 'tester',
    errorCode: null,
    errorMessage: null,
    price: null,
    priceUnit: null,
    sentAt: null,
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

function setup(options: { optedOut?: boolean; refreshAfterSeconds?: number; stored?: MessageRecordEntity | null } = {}) {
  const config: AppConfig = loadConfig({ NODE_ENV: 'test', SAMSAEK_TWILIO_WEBHOOK_URL: 'https://hooks.example.com/api/phone/webhook' });
  config.calls.refreshAfterSeconds = options.refreshAfterSeconds ?? 30;
  const gateway = {
    sendMessage: vi.fn(async (_input: SendMessageInput) => snapshot()),
    fetchMessage: vi.fn(async () => snapshot({ status: 'delivered', price: '-0.01500', priceUnit: 'USD' })),
  };
  const stored = options.stored === undefined ? record() : options.stored;
  let intent: Partial<MessageRecordEntity> = {};
  const messages = {
    insertIntent: vi.fn(async (data: Partial<MessageRecordEntity>) => record((intent = { ...data, sid: null, status: 'initiating' }))),
    // the intent as stored, with Twilio's answer: what the one completing statement returns
    completeFreshIntent: vi.fn(async (_id: string, sid: string, seen: Partial<MessageRecordEntity>): Promise<MessageRecordEntity | null> =>
      record({ ...intent, ...factsOf(seen), sid }),
    ),
    attachSid: vi.fn(async (_id: string, _sid: string) => true),
    deleteIntent: vi.fn(async (_id: string) => undefined),
    markIntentUnknown: vi.fn(async (_id: string) => undefined),
    findBySid: vi.fn(async (): Promise<MessageRecordEntity | null> => stored),
    applyObservation: vi.fn(async (_sid: string, seen: { status?: MessageStatus }) =>
      record({ ...stored, status: seen.status ?? stored?.status }),
    ),
    timeline: vi.fn(async () => [{ status: 'queued', sequenceNumber: -1, source: 'api', occurredAt: new Date(), errorCode: null }]),
    listPage: vi.fn(async () => ({ items: [JSON.stringify(record())], nextCursor: 'next' })),
  };
  const optOuts = { isOptedOut: vi.fn(async () => options.optedOut ?? false) };
  // what the webhook inbox registers: apply the callbacks that arrived before the record
  const inbox = { applyPending: vi.fn(async (_sid: string) => 0) };
  const records = new MessageRecordsService(messages as unknown as MessageRecordRepository);
  records.onRecordStored((sid) => inbox.applyPending(sid));
  const service = new SmsService(
    config,
    gateway as unknown as TwilioGateway,
    messages as unknown as MessageRecordRepository,
    records,
    optOuts as unknown as OptOutsService,
    admitAll,
  );
  return { service, gateway, messages, optOuts, inbox };
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

describe('SmsService.sendSms', () => {
  it('applies status callbacks that reached the inbox before the message was stored, and answers the updated record', async () => {
    const { service, messages, inbox } = setup();
    inbox.applyPending.mockResolvedValueOnce(1);
    messages.findBySid.mockResolvedValueOnce(record({ sid: SID, status: 'delivered' }));
    const { message: dto } = await service.sendSms({ to: '+14155550100', message: 'hi' }, 'user-1');
    expect(inbox.applyPending).toHaveBeenCalledWith(SID);
    expect(dto.status).toBe('delivered');
  });

  it('completes the intent by its sid when a callback gave it the sid first, and answers the stored record', async () => {
    const { service, messages } = setup();
    messages.completeFreshIntent.mockResolvedValueOnce(null);
    // the callback's newer status stays: the apply answers the row as it left it
    messages.applyObservation.mockResolvedValueOnce(record({ sid: SID, status: 'sent' }));
    const { message: dto, accepted } = await service.sendSms({ to: '+14155550100', message: 'hi' }, 'user-1');
    expect(messages.attachSid).toHaveBeenCalledWith('00000000-0000-4000-8000-000000000002', SID);
    expect(messages.applyObservation).toHaveBeenCalledWith(SID, expect.objectContaining({ status: 'queued' }), 'api');
    expect(accepted).toBe(false);
    expect(dto.status).toBe('sent');
  });

  it('sends from the configured number with the status callback and stores the segments Twilio reports', async () => {
    const { service, gateway, messages } = setup();
    const { message: dto } = await service.sendSms({ to: '+14155550100', message: 'hi', agent_name: 'Bot' }, 'user-1');
    expect(gateway.sendMessage).toHaveBeenCalledWith({
      to: '+14155550100',
      from: '+14155550199',
      body: 'hi',
      mediaUrls: [],
      statusCallbackUrl:
        'https://hooks.example.com/api/phone/webhook/status?record_id=00000000-0000-4000-8000-000000000002#rc=5&rp=5xx,ct,rt',
    });
    expect(messages.completeFreshIntent).toHaveBeenCalledWith(
      '00000000-0000-4000-8000-000000000002',
      SID,
      expect.objectContaining({ status: 'queued', segments: 2 }),
      'api',
    );
    expect(messages.insertIntent.mock.calls[0][0]).toMatchObject({
      createdBy: 'user-1',
      agentName: 'Bot',
      body: 'hi',
    });
    expect(dto).toMatchObject({ sid: SID, segments: 2, status: 'queued', created_by: 'user-1', media_urls: [] });
  });

  it('sends media without a body', async () => {
    const { service, gateway, messages } = setup();
    messages.findBySid.mockImplementation(async () => record({ ...messages.insertIntent.mock.calls[0][0], sid: SID }));
    const { message: dto } = await service.sendSms({ to: '+14155550100', media_url: ['https://cdn.example.com/x.png'] }, 'u');
    expect(gateway.sendMessage.mock.calls[0][0]).toMatchObject({ body: undefined, mediaUrls: ['https://cdn.example.com/x.png'] });
    expect(dto.media_urls).toEqual(['https://cdn.example.com/x.png']);
  });

  it('refuses an opted-out recipient before asking Twilio', async () => {
    const { service, gateway, messages } = setup({ optedOut: true });
    const error = await failure(service.sendSms({ to: '+14155550100', message: 'hi' }, 'u'));
    expect(error.status).toBe(400);
    expect(error.code).toBe('recipient_opted_out');
    expect(error.details?.[0].field).toBe('to');
    expect(gateway.sendMessage).not.toHaveBeenCalled();
    expect(messages.insertIntent).not.toHaveBeenCalled();
  });

  it('stores nothing when Twilio refuses the message', async () => {
    const { service, gateway, messages } = setup();
    gateway.sendMessage.mockRejectedValueOnce(new TwilioGatewayError('refused_recipient', 'blocked', 21610, 'to'));
    const error = await failure(service.sendSms({ to: '+15005550004', message: 'hi' }, 'u'));
    expect(error.status).toBe(400);
    expect(error.twilioCode).toBe(21610);
    expect(messages.deleteIntent).toHaveBeenCalledWith('00000000-0000-4000-8000-000000000002');
  });

  it('answers the intent with status unknown (accepted) when Twilio fails with a 5xx, and keeps it', async () => {
    const { service, gateway, messages } = setup();
    gateway.sendMessage.mockRejectedValueOnce(new TwilioGatewayError('unavailable', 'Twilio failed: Internal Server Error', 20500));
    const { message, accepted } = await service.sendSms({ to: '+14155550100', message: 'hi', agent_name: 'Bot' }, 'u');
    expect(accepted).toBe(true);
    expect(message).toMatchObject({
      id: '00000000-0000-4000-8000-000000000002',
      sid: null,
      status: 'unknown',
      body: 'hi',
      agent_name: 'Bot',
      created_by: 'u',
    });
    expect(messages.markIntentUnknown).toHaveBeenCalledWith('00000000-0000-4000-8000-000000000002');
    expect(messages.deleteIntent).not.toHaveBeenCalled();
  });
});

describe('SmsService.getSms', () => {
  it('refreshes an in-flight message not synced for the threshold', async () => {
    const old = new Date(Date.now() - 60_000);
    const { service, gateway, messages } = setup({ stored: record({ status: 'sent', syncedAt: old }) });
    const dto = await service.getSms(SID);
    expect(gateway.fetchMessage).toHaveBeenCalledWith(SID);
    expect(messages.applyObservation).toHaveBeenCalledWith(SID, expect.objectContaining({ status: 'delivered' }), 'refresh');
    expect(dto.status).toBe('delivered');
    expect(dto.timeline).toHaveLength(1);
  });

  it('does not refresh a recently synced message, nor a terminal one with its price', async () => {
    const a = setup({ stored: record({ status: 'sent' }) });
    await a.service.getSms(SID);
    const old = new Date(Date.now() - 3_600_000);
    const b = setup({ stored: record({ status: 'undelivered', price: '-0.00750', syncedAt: old }) });
    await b.service.getSms(SID);
    expect(a.gateway.fetchMessage).not.toHaveBeenCalled();
    expect(b.gateway.fetchMessage).not.toHaveBeenCalled();
  });

  it('returns the stored message when the refresh fails', async () => {
    const { service, gateway } = setup({ refreshAfterSeconds: 0, stored: record({ status: 'sent' }) });
    gateway.fetchMessage.mockRejectedValueOnce(new TwilioGatewayError('timeout', 'slow'));
    expect((await service.getSms(SID)).status).toBe('sent');
  });

  it('answers 404 for an unknown message', async () => {
    const { service } = setup({ stored: null });
    expect((await failure(service.getSms(SID))).status).toBe(404);
  });
});

describe('SmsService.getSmsHistory', () => {
  it('passes filters, limit and the decoded cursor; refuses since > until', async () => {
    const { service, messages } = setup();
    const page = await service.getSmsHistory({ limit: 5, direction: 'outbound', to: '+14155550100' });
    expect(messages.listPage).toHaveBeenCalledWith(expect.objectContaining({ direction: 'outbound', to: '+14155550100' }), null, 5);
    expect(JSON.parse(page)).toMatchObject({ next_cursor: 'next' });
    const error = await failure(service.getSmsHistory({ since: '2025-02-01T00:00:00Z', until: '2025-01-01T00:00:00Z' }));
    expect(error.status).toBe(400);
  });

  it('refuses a cursor it did not issue', async () => {
    const { service } = setup();
    const error = await failure(service.getSmsHistory({ cursor: 'garbage' }));
    expect(error.status).toBe(400);
    expect(error.details?.[0].field).toBe('cursor');
  });
});
