import type { AssistantsService } from '../assistants/assistants.service';
import { AppError } from '../common/app-error';
import type { AppConfig } from '../config/app-config';
import type { PhoneNumberEntity } from './phone-number.entity';
import type { PhoneNumberRepository } from './phone-number.repository';
import { TwilioGatewayError } from '../twilio/twilio.errors';
import type { TwilioGateway } from '../twilio/twilio.gateway';
import type { OwnedNumber } from '../twilio/twilio.types';
import type { GuardrailsService } from '../guardrails/guardrails.service';
import { NumbersService, webhooksFor } from './numbers.service';

const SID_A = `PN${'a'.repeat(32)}`;
const SID_B = `PN${'b'.repeat(32)}`;
const SID_C = `PN${'c'.repeat(32)}`;
const CAPS = { voice: true, sms: true, mms: false };

function owned(overrides: Partial<OwnedNumber> = {}): OwnedNumber {
  return {
    sid: SID_A,
    phoneNumber: '+14155550123',
    friendlyName: 'Main',
    capabilities: CAPS,
    voiceUrl: 'https://x.test/hook/call',
    smsUrl: 'https://x.test/hook/sms',
    statusCallbackUrl: 'https://x.test/hook/status',
    statusCallbackMethod: 'POST',
    dateCreated: new Date('2026-11-01T00:00:00Z'),
    ...overrides,
  };
}

/** An in-memory PhoneNumberRepository with the same narrow methods. */
class FakeNumbers {
  rows: PhoneNumberEntity[] = [];
  /** Test helper: a row as a sync or a completed purchase leaves it. */
  async insert(data: Partial<PhoneNumberEntity>) {
    const row = {
      id: `00000000-0000-4000-8000-${String(this.rows.length + 1).padStart(12, '0')}`,
      createdAt: new Date(),
      updatedAt: new Date(),
      status: 'active',
      releasedAt: null,
      purchasedBy: null,
      ...data,
    } as PhoneNumberEntity;
    this.rows.push(row);
    return row;
  }
  async insertIntent(data: Partial<PhoneNumberEntity>) {
    if (await this.findHolderOf(data.phoneNumber!)) return null;
    return this.insert({ ...data, sid: null, status: 'purchasing', releasedAt: null });
  }
  async insertIfAbsent(data: Partial<PhoneNumberEntity>) {
    if (this.rows.some((r) => r.sid === data.sid) || (await this.findHolderOf(data.phoneNumber!))) return false;
    await this.insert(data);
    return true;
  }
  async findById(id: string) {
    return this.rows.find((r) => r.id === id) ?? null;
  }
  async findBySid(sid: string) {
    return this.rows.find((r) => r.sid === sid) ?? null;
  }
  async findHolderOf(n: string) {
    return this.rows.find((r) => r.phoneNumber === n && ['purchasing', 'unknown', 'active'].includes(r.status)) ?? null;
  }
  async listActive() {
    return this.listByStatus('active');
  }
  async listByStatus(status: string) {
    return this.rows.filter((r) => r.status === status);
  }
  async listUnresolvedIntents() {
    return this.rows.filter((r) => r.sid === null && ['purchasing', 'unknown'].includes(r.status));
  }
  async completeIntent(id: string, fields: Partial<PhoneNumberEntity> & { sid: string }) {
    const row = this.rows.find((r) => r.id === id);
    if (row?.sid === null) Object.assign(row, fields, { status: 'active', releasedAt: null });
    return row?.sid === fields.sid ? row : null;
  }
  async deleteIntent(id: string) {
    this.rows = this.rows.filter((r) => !(r.id === id && r.sid === null));
  }
  async markIntentUnknown(id: string) {
    const row = this.rows.find((r) => r.id === id && r.sid === null && r.status === 'purchasing');
    if (row) row.status = 'unknown';
  }
  async failIntent(id: string) {
    const row = this.rows.find((r) => r.id === id && r.sid === null && ['purchasing', 'unknown'].includes(r.status));
    if (row) row.status = 'failed';
    return !!row;
  }
  async setPendingChange(sid: string, change: PhoneNumberEntity['pendingChange']) {
    const row = this.rows.find((r) => r.sid === sid && r.status === 'active');
    if (row) row.pendingChange = change;
    return !!row;
  }
  async markReleased(sid: string, at: Date) {
    const row = this.rows.find((r) => r.sid === sid && r.status === 'active');
    if (row) Object.assign(row, { status: 'released', releasedAt: at, pendingChange: null });
    return !!row;
  }
  async update(sid: string, patch: Partial<PhoneNumberEntity>) {
    const row = this.rows.find((r) => r.sid === sid);
    if (row) Object.assign(row, patch);
  }
  async adoptListed(sid: string, patch: Partial<PhoneNumberEntity>) {
    await this.update(sid, { ...patch, status: 'active', releasedAt: null });
  }
  async countActive() {
    return (await this.listActive()).length;
  }
}

function setup(gatewayOverrides: Partial<Record<keyof TwilioGateway, unknown>> = {}) {
  const gateway = {
    searchAvailableNumbers: vi.fn(async () => []),
    purchaseNumber: vi.fn(async (phoneNumber: string, friendlyName: string | undefined, webhooks: Record<string, string>) =>
      owned({
        phoneNumber,
        friendlyName: friendlyName ?? '(415) 555-0123',
        voiceUrl: webhooks.voiceUrl,
        smsUrl: webhooks.smsUrl,
        statusCallbackUrl: webhooks.statusCallbackUrl,
      }),
    ),
    listOwnedNumbers: vi.fn(async () => [] as OwnedNumber[]),
    updateNumberWebhooks: vi.fn(async (sid: string, webhooks: Record<string, string>, friendlyName?: string) =>
      owned({ sid, friendlyName: friendlyName ?? 'Main', ...webhooks }),
    ),
    releaseNumber: vi.fn(async () => undefined),
  };
  Object.assign(gateway, gatewayOverrides);
  const repo = new FakeNumbers();
  const config = {
    twilio: { webhookBaseUrl: 'https://default.test/api/phone/webhook' },
    reconcile: { intentWindowSeconds: 600 },
  } as AppConfig;
  const guardrails = { admit: vi.fn(<T>(_request: unknown, work: () => Promise<T>) => work()) };
  const service = new NumbersService(
    gateway as unknown as TwilioGateway,
    repo as unknown as PhoneNumberRepository,
    config,
    guardrails as unknown as GuardrailsService,
    {} as AssistantsService,
  );
  return { gateway, repo, service };
}

describe('webhooksFor', () => {
  it('derives the three URLs from the base, without a doubled slash', () => {
    expect(webhooksFor('https://yourdomain.com/api/phone/webhook/')).toEqual({
      voiceUrl: 'https://yourdomain.com/api/phone/webhook/call',
      smsUrl: 'https://yourdomain.com/api/phone/webhook/sms',
      statusCallbackUrl: 'https://yourdomain.com/api/phone/webhook/status',
    });
  });
});

describe('NumbersService', () => {
  it('searches with the mapped filters and maps the result', async () => {
    const { gateway, service } = setup({
      searchAvailableNumbers: vi.fn(async () => [
        {
          phoneNumber: '+14155550100',
          friendlyName: '(415) 555-0100',
          locality: 'San Francisco',
          region: 'CA',
          postalCode: '94103',
          isoCountry: 'US',
          capabilities: CAPS,
        },
      ]),
    });
    const result = await service.searchNumbers({ area_code: '415', country: 'US', type: 'toll_free', limit: 5, sms_enabled: true });
    expect(gateway.searchAvailableNumbers).toHaveBeenCalledWith(
      expect.objectContaining({ country: 'US', type: 'toll_free', areaCode: 415, limit: 5, smsEnabled: true }),
    );
    expect(result.numbers).toEqual([
      {
        phone_number: '+14155550100',
        friendly_name: '(415) 555-0100',
        locality: 'San Francisco',
        region: 'CA',
        postal_code: '94103',
        iso_country: 'US',
        capabilities: CAPS,
      },
    ]);
  });

  it('searches local US numbers, 20 at most, by default', async () => {
    const { gateway, service } = setup();
    await service.searchNumbers({});
    expect(gateway.searchAvailableNumbers).toHaveBeenCalledWith(
      expect.objectContaining({ country: 'US', type: 'local', limit: 20, areaCode: undefined }),
    );
  });

  it('refuses an area code outside US/CA, naming area_code', async () => {
    const { service, gateway } = setup();
    const error = await service.searchNumbers({ area_code: '415', country: 'GB', type: 'local', limit: 20 }).catch((e) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error.details[0].field).toBe('area_code');
    expect(gateway.searchAvailableNumbers).not.toHaveBeenCalled();
  });

  it('purchases with URLs derived from webhook_url and stores the buyer', async () => {
    const { gateway, repo, service } = setup();
    const { number: dto, accepted } = await service.purchaseNumber(
      { phone_number: '+14155550123', friendly_name: 'Samsaek Main Line', webhook_url: 'https://yourdomain.com/api/phone/webhook' },
      'user-1',
    );
    expect(accepted).toBe(false);
    expect(gateway.purchaseNumber).toHaveBeenCalledWith('+14155550123', 'Samsaek Main Line', {
      voiceUrl: 'https://yourdomain.com/api/phone/webhook/call',
      smsUrl: 'https://yourdomain.com/api/phone/webhook/sms',
      statusCallbackUrl: 'https://yourdomain.com/api/phone/webhook/status',
    });
    expect(dto).toMatchObject({
      sid: SID_A,
      phone_number: '+14155550123',
      friendly_name: 'Samsaek Main Line',
      purchased_by: 'user-1',
      status: 'active',
      released_at: null,
    });
    expect(dto.voice_url).toBe('https://yourdomain.com/api/phone/webhook/call');
    expect(repo.rows).toHaveLength(1);
  });

  it('defaults the webhook base to the configured one', async () => {
    const { gateway, service } = setup();
    await service.purchaseNumber({ phone_number: '+14155550123' }, 'user-1');
    expect(gateway.purchaseNumber.mock.calls[0][2]).toEqual(webhooksFor('https://default.test/api/phone/webhook'));
  });

  it('answers 409 when the number is already owned, without asking Twilio', async () => {
    const { gateway, repo, service } = setup();
    await repo.insert({ sid: SID_A, phoneNumber: '+14155550123', friendlyName: 'x', capabilities: CAPS });
    const error = await service.purchaseNumber({ phone_number: '+14155550123' }, 'u').catch((e) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error.status).toBe(409);
    expect(error.code).toBe('conflict');
    expect(gateway.purchaseNumber).not.toHaveBeenCalled();
  });

  it('answers 409 while an earlier purchase of the number is not settled, without asking Twilio', async () => {
    const { gateway, repo, service } = setup();
    await repo.insertIntent({ phoneNumber: '+14155550123', friendlyName: 'x', purchasedBy: 'u' });
    const error = await service.purchaseNumber({ phone_number: '+14155550123' }, 'u').catch((e) => e);
    expect(error).toMatchObject({ status: 409, code: 'conflict' });
    expect(error.message).toMatch(/earlier purchase/);
    expect(gateway.purchaseNumber).not.toHaveBeenCalled();
  });

  it('stores the purchase before asking Twilio', async () => {
    let rowsWhenAsked: PhoneNumberEntity[] = [];
    const { gateway, repo, service } = setup();
    gateway.purchaseNumber.mockImplementation(async (phoneNumber: string) => {
      rowsWhenAsked = repo.rows.map((r) => ({ ...r }));
      return owned({ phoneNumber });
    });
    await service.purchaseNumber({ phone_number: '+14155550123', friendly_name: 'Line' }, 'user-1');
    expect(rowsWhenAsked).toEqual([
      expect.objectContaining({ sid: null, status: 'purchasing', purchasedBy: 'user-1', friendlyName: 'Line' }),
    ]);
  });

  it.each([
    ['a timeout', new TwilioGatewayError('timeout', 'slow')],
    ['a 5xx', new TwilioGatewayError('unavailable', 'Twilio failed: 500')],
  ])('keeps the purchase as unknown after %s and answers it accepted', async (_what, failure) => {
    const { repo, service } = setup({ purchaseNumber: vi.fn(async () => Promise.reject(failure)) });
    const { number, accepted } = await service.purchaseNumber({ phone_number: '+14155550123' }, 'u');
    expect(accepted).toBe(true);
    expect(number).toMatchObject({ sid: null, status: 'unknown', phone_number: '+14155550123', purchased_by: 'u' });
    expect(repo.rows).toEqual([expect.objectContaining({ id: number.id, sid: null, status: 'unknown' })]);
  });

  it("settles an unknown purchase from Twilio's list: found completes the same row, absent after the window fails it", async () => {
    const failure = new TwilioGatewayError('timeout', 'slow');
    const { gateway, repo, service } = setup({ purchaseNumber: vi.fn(async () => Promise.reject(failure)) });
    const found = await service.purchaseNumber({ phone_number: '+14155550123' }, 'u');
    const absent = await service.purchaseNumber({ phone_number: '+14155550124' }, 'u');
    repo.rows.find((r) => r.id === absent.number.id)!.createdAt = new Date(Date.now() - 601_000);
    gateway.listOwnedNumbers.mockResolvedValue([owned({ phoneNumber: '+14155550123' })]);
    const { numbers } = await service.listNumbers();
    expect(numbers).toEqual([expect.objectContaining({ id: found.number.id, sid: SID_A, status: 'active', purchased_by: 'u' })]);
    expect((await service.listNumbers({ status: 'failed' })).numbers.map((n) => n.id)).toEqual([absent.number.id]);
    expect(repo.rows).toHaveLength(2);
  });

  it('leaves an unknown purchase within the window unknown when Twilio does not have the number yet', async () => {
    const { repo, service } = setup({ purchaseNumber: vi.fn(async () => Promise.reject(new TwilioGatewayError('timeout', 'slow'))) });
    await service.purchaseNumber({ phone_number: '+14155550123' }, 'u');
    await service.listNumbers();
    expect(repo.rows.map((r) => r.status)).toEqual(['unknown']);
  });

  it('lets a Twilio refusal propagate and stores nothing', async () => {
    const refusal = new TwilioGatewayError('invalid_request', 'not available', 21422, 'phone_number');
    const { repo, service } = setup({ purchaseNumber: vi.fn(async () => Promise.reject(refusal)) });
    await expect(service.purchaseNumber({ phone_number: '+15005550000' }, 'u')).rejects.toBe(refusal);
    expect(repo.rows).toHaveLength(0);
  });

  it('reconciles the list with Twilio: adds numbers bought elsewhere, releases numbers gone, refreshes changed ones', async () => {
    const { repo, service } = setup({
      listOwnedNumbers: vi.fn(async () => [
        owned({ sid: SID_A, friendlyName: 'Renamed in console' }),
        owned({ sid: SID_C, phoneNumber: '+14155550199' }),
      ]),
    });
    await repo.insert({ ...owned({ sid: SID_A }), purchasedBy: 'u1' });
    await repo.insert({ ...owned({ sid: SID_B, phoneNumber: '+14155550111' }), purchasedBy: 'u1' });
    const { numbers } = await service.listNumbers();
    expect(numbers.map((n) => n.sid).sort()).toEqual([SID_A, SID_C]);
    expect(numbers.find((n) => n.sid === SID_C)!.purchased_by).toBeNull();
    expect(numbers.find((n) => n.sid === SID_A)!.friendly_name).toBe('Renamed in console');
    expect(numbers.find((n) => n.sid === SID_A)!.purchased_by).toBe('u1');
    expect((await repo.findBySid(SID_B))!.releasedAt).toBeInstanceOf(Date);
  });

  it('re-activates a number we had marked released when Twilio still has it', async () => {
    const { repo, service } = setup({ listOwnedNumbers: vi.fn(async () => [owned()]) });
    await repo.insert({ ...owned(), status: 'released', releasedAt: new Date() });
    const { numbers } = await service.listNumbers();
    expect(numbers.map((n) => n.sid)).toEqual([SID_A]);
  });

  it('returns the stored list when Twilio is unreachable', async () => {
    const { repo, service } = setup({ listOwnedNumbers: vi.fn(async () => Promise.reject(new TwilioGatewayError('unavailable', 'down'))) });
    await repo.insert({ ...owned(), purchasedBy: 'u1' });
    const { numbers } = await service.listNumbers();
    expect(numbers.map((n) => n.sid)).toEqual([SID_A]);
  });

  it('updates the label and re-derives the URLs', async () => {
    const { gateway, repo, service } = setup();
    await repo.insert({ ...owned() });
    const dto = await service.updateNumber(SID_A, { friendly_name: 'Support', webhook_url: 'https://new.test/hooks/' });
    expect(gateway.updateNumberWebhooks).toHaveBeenCalledWith(SID_A, webhooksFor('https://new.test/hooks'), 'Support');
    expect(dto).toMatchObject({
      friendly_name: 'Support',
      voice_url: 'https://new.test/hooks/call',
      status_callback_url: 'https://new.test/hooks/status',
    });
    expect((await repo.findBySid(SID_A))!.smsUrl).toBe('https://new.test/hooks/sms');
  });

  describe('the scheduled sync points numbers answered by our voice webhook at our status webhook', () => {
    const OURS = 'https://default.test/api/phone/webhook';

    it('sets a missing, foreign or GET status callback, and records what Twilio answered', async () => {
      const numbers = [
        owned({ sid: SID_A, voiceUrl: `${OURS}/call`, statusCallbackUrl: null, statusCallbackMethod: 'POST' }),
        owned({ sid: SID_B, phoneNumber: '+14155550111', voiceUrl: `${OURS}/call`, statusCallbackUrl: 'https://elsewhere.test/status' }),
        owned({
          sid: SID_C,
          phoneNumber: '+14155550199',
          voiceUrl: `${OURS}/call`,
          statusCallbackUrl: `${OURS}/status`,
          statusCallbackMethod: 'GET',
        }),
      ];
      const { gateway, repo, service } = setup({
        listOwnedNumbers: vi.fn(async () => numbers),
        updateNumberWebhooks: vi.fn(async (sid: string, webhooks: Record<string, string>) => ({
          ...numbers.find((n) => n.sid === sid)!,
          ...webhooks,
          statusCallbackMethod: 'POST',
        })),
      });
      expect(await service.syncWithTwilio({ repairStatusCallbacks: true })).toBe(true);
      expect(gateway.updateNumberWebhooks.mock.calls).toEqual([
        [SID_A, { statusCallbackUrl: `${OURS}/status` }],
        [SID_B, { statusCallbackUrl: `${OURS}/status` }],
        [SID_C, { statusCallbackUrl: `${OURS}/status` }],
      ]);
      for (const sid of [SID_A, SID_B, SID_C]) expect((await repo.findBySid(sid))!.statusCallbackUrl).toBe(`${OURS}/status`);
      expect((await service.numbersReportingStatusToUs()).sort()).toEqual(['+14155550111', '+14155550123', '+14155550199']);
    });

    it("leaves alone a number that is right already, one answered by someone else's voice URL, and any number on GET numbers", async () => {
      const numbers = [
        owned({ sid: SID_A, voiceUrl: `${OURS}/call`, statusCallbackUrl: `${OURS}/status`, statusCallbackMethod: null }),
        owned({ sid: SID_B, phoneNumber: '+14155550111', voiceUrl: 'https://studio.test/flow', statusCallbackUrl: null }),
        owned({ sid: SID_C, phoneNumber: '+14155550199', voiceUrl: null, statusCallbackUrl: null }),
      ];
      const { gateway, service } = setup({ listOwnedNumbers: vi.fn(async () => numbers) });
      await service.syncWithTwilio({ repairStatusCallbacks: true });
      const missing = owned({ sid: SID_A, voiceUrl: `${OURS}/call`, statusCallbackUrl: null });
      gateway.listOwnedNumbers.mockResolvedValue([missing]);
      await service.listNumbers();
      expect(gateway.updateNumberWebhooks).not.toHaveBeenCalled();
      expect(await service.numbersReportingStatusToUs()).toEqual([]);
    });

    it('records the list as Twilio gave it when a repair fails, and tries again at the next sync', async () => {
      const number = owned({ voiceUrl: `${OURS}/call`, statusCallbackUrl: null });
      const { gateway, repo, service } = setup({
        listOwnedNumbers: vi.fn(async () => [number]),
        updateNumberWebhooks: vi.fn(async () => Promise.reject(new TwilioGatewayError('unavailable', 'down'))),
      });
      expect(await service.syncWithTwilio({ repairStatusCallbacks: true })).toBe(true);
      expect((await repo.findBySid(SID_A))!.statusCallbackUrl).toBeNull();
      await service.syncWithTwilio({ repairStatusCallbacks: true });
      expect(gateway.updateNumberWebhooks).toHaveBeenCalledTimes(2);
    });
  });

  it('answers 404 for an update of an unknown number', async () => {
    const { service } = setup();
    await expect(service.updateNumber(SID_B, { friendly_name: 'x' })).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('releases at Twilio, then records released_at; a second release is 404', async () => {
    const { gateway, repo, service } = setup();
    await repo.insert({ ...owned() });
    const dto = await service.releaseNumber(SID_A);
    expect(gateway.releaseNumber).toHaveBeenCalledWith(SID_A);
    expect(dto.released_at).not.toBeNull();
    expect((await repo.findBySid(SID_A))!.releasedAt).toBeInstanceOf(Date);
    await expect(service.releaseNumber(SID_A)).rejects.toMatchObject({ status: 404 });
  });

  it('keeps the number when Twilio fails to release it', async () => {
    const { repo, service } = setup({ releaseNumber: vi.fn(async () => Promise.reject(new TwilioGatewayError('unavailable', 'down'))) });
    await repo.insert({ ...owned() });
    await expect(service.releaseNumber(SID_A)).rejects.toBeInstanceOf(TwilioGatewayError);
    expect((await repo.findBySid(SID_A))!.releasedAt).toBeNull();
  });
});
