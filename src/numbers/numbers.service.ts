import { HttpStatus, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { AssistantsService } from '../assistants/assistants.service';
import { AppError } from '../common/app-error';
import { completeWithRetries, storeIntent } from '../common/intent';
import { twilioCallbackUrl, type TwilioCallbackTarget } from '../common/twilio-callback-url';
import { appLogger } from '../common/logger';
import { maskPhoneNumber } from '../common/phone-number';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { GuardrailsService } from '../guardrails/guardrails.service';
import { TwilioGatewayError, twilioMayHaveActed } from '../twilio/twilio.errors';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { AvailableNumber, NumberType, NumberWebhooks, OwnedNumber } from '../twilio/twilio.types';
import {
  AvailableNumberDto,
  ListNumbersQueryDto,
  NumberTypeParam,
  PhoneNumberDto,
  PhoneNumberListDto,
  PurchaseNumberDto,
  SearchNumbersQueryDto,
  SearchNumbersResponseDto,
  UpdateNumberDto,
} from './numbers.dto';
import { PendingNumberChange, PhoneNumberEntity } from './phone-number.entity';
import { PhoneNumberRepository } from './phone-number.repository';

const AREA_CODE_COUNTRIES = ['US', 'CA'];

const NUMBER_TYPE: Record<NumberTypeParam, NumberType> = { local: 'local', toll_free: 'toll_free', mobile: 'mobile' };

/** The three webhook URLs Twilio calls for a number, derived from one base URL. */
export function webhooksFor(baseUrl: string | TwilioCallbackTarget): Required<NumberWebhooks> {
  return {
    voiceUrl: twilioCallbackUrl(baseUrl, '/call'),
    smsUrl: twilioCallbackUrl(baseUrl, '/sms'),
    statusCallbackUrl: twilioCallbackUrl(baseUrl, '/status'),
  };
}

@Injectable()
export class NumbersService implements OnModuleInit {
  constructor(
    private readonly gateway: TwilioGateway,
    private readonly numbers: PhoneNumberRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly guardrails: GuardrailsService,
    private readonly assistants: AssistantsService,
  ) {}

  onModuleInit(): void {
    this.assistants.onDelete(async (assistantId) => {
      const numbers = await this.numbers.listRoutingTo(assistantId);
      return numbers.length ? `number(s) ${numbers.map((n) => n.sid ?? n.phoneNumber).join(', ')} route to it` : null;
    });
  }

  /** The assistant inbound calls and SMS to our number `phoneNumber` go to, or null. */
  assistantOf(phoneNumber: string): Promise<string | null> {
    return this.numbers.assistantOf(phoneNumber);
  }

  async searchNumbers(query: SearchNumbersQueryDto): Promise<SearchNumbersResponseDto> {
    const country = query.country ?? 'US';
    const limit = query.limit ?? 20;
    if (query.area_code !== undefined && !AREA_CODE_COUNTRIES.includes(country)) {
      throw AppError.invalidField('area_code', 'area_code can only be used with country US or CA');
    }
    const found = await this.gateway
      .searchAvailableNumbers({
        country,
        type: NUMBER_TYPE[query.type ?? 'local'],
        areaCode: query.area_code === undefined ? undefined : Number(query.area_code),
        contains: query.contains,
        smsEnabled: query.sms_enabled,
        voiceEnabled: query.voice_enabled,
        mmsEnabled: query.mms_enabled,
        limit,
      })
      .catch((error: unknown) => {
        // Twilio answers 404 for a country (or number type there) it does not sell: a bad filter, not a missing resource.
        if (error instanceof TwilioGatewayError && error.kind === 'not_found') {
          throw AppError.invalidField('country', `Twilio offers no ${query.type ?? 'local'} numbers in country ${country}`);
        }
        throw error;
      });
    return { numbers: found.slice(0, limit).map(toAvailableNumberDto) };
  }

  /**
   * Stores the purchase, then asks Twilio, then completes the row. `accepted` is true when the row
   * is not complete: Twilio's outcome is unknown (status `unknown`), or its answer is not stored yet.
   */
  async purchaseNumber(input: PurchaseNumberDto, purchasedBy: string): Promise<{ number: PhoneNumberDto; accepted: boolean }> {
    const held = await this.numbers.findHolderOf(input.phone_number);
    if (held) throw alreadyHeld(input.phone_number, held);
    const webhooks = webhooksFor(input.webhook_url ?? this.config.twilio);
    // within the spending ceiling: stored in the transaction that counts it in
    const intent = await this.guardrails.admit({ kind: 'number' }, async (tx) => {
      const stored = await storeIntent(() =>
        this.numbers.insertIntent(
          {
            phoneNumber: input.phone_number,
            friendlyName: input.friendly_name ?? input.phone_number,
            capabilities: null,
            voiceUrl: webhooks.voiceUrl,
            smsUrl: webhooks.smsUrl,
            statusCallbackUrl: webhooks.statusCallbackUrl,
            purchasedBy,
          },
          tx,
        ),
      );
      if (stored) return stored;
      const holder = await this.numbers.findHolderOf(input.phone_number, tx);
      throw alreadyHeld(input.phone_number, holder);
    });
    let owned: OwnedNumber;
    try {
      owned = await this.gateway.purchaseNumber(input.phone_number, input.friendly_name, webhooks);
    } catch (error) {
      return { number: toPhoneNumberDto(await this.settleFailedIntent(intent, error)), accepted: true };
    }
    const completed = await completeWithRetries(() => this.numbers.completeIntent(intent.id, entityFieldsOf(owned)), {
      resource: 'number',
      record_id: intent.id,
      sid: owned.sid,
    });
    appLogger().event('info', 'number_purchased', { sid: owned.sid, phone_number: maskPhoneNumber(owned.phoneNumber) });
    if (completed) return { number: toPhoneNumberDto(completed), accepted: false };
    // Twilio bought the number; the next sync with Twilio's list completes the row
    return { number: toPhoneNumberDto({ ...intent, ...entityFieldsOf(owned), status: 'active' }), accepted: true };
  }

  /**
   * Twilio did not answer with a number: a refusal removes the intent and is rethrown; an outcome
   * we cannot know leaves the intent `unknown` for the next sync and is returned.
   */
  private async settleFailedIntent(intent: PhoneNumberEntity, error: unknown): Promise<PhoneNumberEntity> {
    if (!twilioMayHaveActed(error)) {
      await this.numbers.deleteIntent(intent.id);
      throw error;
    }
    appLogger().event('warn', 'number_purchase_outcome_unknown', {
      record_id: intent.id,
      phone_number: maskPhoneNumber(intent.phoneNumber),
      error: error instanceof Error ? error.message : String(error),
    });
    await this.numbers.markIntentUnknown(intent.id).catch(() => undefined);
    return { ...intent, status: 'unknown' };
  }

  /**
   * The numbers in `status` (default `active`: the ones we own), after comparing with Twilio:
   * numbers bought elsewhere are recorded, numbers gone from Twilio are marked released, purchases
   * whose answer was lost are resolved. When Twilio cannot be asked, the stored list is returned.
   */
  async listNumbers(query: ListNumbersQueryDto = {}): Promise<PhoneNumberListDto> {
    await this.syncWithTwilio();
    const rows = await this.numbers.listByStatus(query.status ?? 'active');
    return { numbers: rows.map(toPhoneNumberDto) };
  }

  /**
   * Records the numbers Twilio says we own and marks those it no longer has released; false (and a
   * log line) when Twilio cannot be asked, leaving the stored list as it was. With
   * `repairStatusCallbacks` (the scheduled sync), a number whose voice URL is ours but whose status
   * callback is missing or elsewhere is pointed at ours first (see repairStatusCallback).
   */
  async syncWithTwilio(options: { repairStatusCallbacks?: boolean } = {}): Promise<boolean> {
    let owned: OwnedNumber[];
    try {
      owned = await this.gateway.listOwnedNumbers();
    } catch (error) {
      appLogger().event('warn', 'numbers_reconcile_skipped', { error: error instanceof Error ? error.message : String(error) });
      return false;
    }
    if (options.repairStatusCallbacks) owned = await Promise.all(owned.map((n) => this.repairStatusCallback(n)));
    await this.reconcile(owned);
    return true;
  }

  /**
   * The phone numbers we hold whose inbound calls report their final status to our status webhook
   * (as far as the last sync or change knows); inbound calls to the others are followed at Twilio.
   */
  async numbersReportingStatusToUs(): Promise<string[]> {
    const ours = withoutFragment(twilioCallbackUrl(this.config.twilio, '/status'));
    const rows = await this.numbers.listActive();
    return rows.filter((n) => n.statusCallbackUrl !== null && withoutFragment(n.statusCallbackUrl) === ours).map((n) => n.phoneNumber);
  }

  /**
   * A number answered by our voice webhook sends the final status of its inbound calls only to its
   * own StatusCallback (Twilio lets an IncomingPhoneNumber choose no events: it sends the end of the
   * call). Wired by an older version, by hand or in the console without it, its inbound calls would
   * stay ringing until reconciliation: point it at our status webhook, with POST. A number whose
   * voice URL is not ours belongs to someone else's setup and is left alone.
   */
  private async repairStatusCallback(number: OwnedNumber): Promise<OwnedNumber> {
    const target = this.config.twilio;
    if (!number.voiceUrl || withoutFragment(number.voiceUrl) !== withoutFragment(twilioCallbackUrl(target, '/call'))) return number;
    const statusCallbackUrl = twilioCallbackUrl(target, '/status');
    // Twilio's default method is POST
    if (number.statusCallbackUrl === statusCallbackUrl && (number.statusCallbackMethod ?? 'POST') === 'POST') return number;
    try {
      const repaired = await this.gateway.updateNumberWebhooks(number.sid, { statusCallbackUrl });
      appLogger().event('info', 'number_status_callback_repaired', {
        sid: number.sid,
        phone_number: maskPhoneNumber(number.phoneNumber),
        // not the old URL itself: a callback URL may carry credentials
        was: !number.statusCallbackUrl ? 'missing' : number.statusCallbackUrl !== statusCallbackUrl ? 'elsewhere' : 'not POST',
      });
      return repaired;
    } catch (error) {
      // the next sync tries again; the list is recorded as Twilio gave it
      appLogger().event('warn', 'number_status_callback_not_repaired', {
        sid: number.sid,
        error: error instanceof Error ? error.message : String(error),
      });
      return number;
    }
  }

  async updateNumber(sid: string, input: UpdateNumberDto): Promise<PhoneNumberDto> {
    if (input.friendly_name === undefined && input.webhook_url === undefined && input.assistant_id === undefined) {
      const message = 'friendly_name, webhook_url or assistant_id is required';
      throw new AppError(HttpStatus.BAD_REQUEST, 'validation_failed', 'Send friendly_name, webhook_url and/or assistant_id to change', [
        { field: 'friendly_name', message },
        { field: 'webhook_url', message },
        { field: 'assistant_id', message },
      ]);
    }
    let row = await this.activeNumber(sid);
    if (input.assistant_id !== undefined) {
      if (input.assistant_id !== null) await this.assistants.findForField(input.assistant_id, 'assistant_id');
      await this.numbers.setAssistant(sid, input.assistant_id);
      row = { ...row, assistantId: input.assistant_id };
      if (input.friendly_name === undefined && input.webhook_url === undefined) return toPhoneNumberDto(row);
    }
    const webhooks = input.webhook_url === undefined ? {} : webhooksFor(input.webhook_url);
    const updated = await this.askTwilio(sid, { update: { friendlyName: input.friendly_name, webhooks } }, () =>
      this.atTwilio(sid, () => this.gateway.updateNumberWebhooks(sid, webhooks, input.friendly_name)),
    );
    const patch = entityFieldsOf(updated);
    // Twilio has the change: when it cannot be stored now, the next sync records Twilio's fields
    await completeWithRetries(
      async () => {
        await this.numbers.update(sid, { ...patch, pendingChange: null });
        return true;
      },
      { resource: 'number', sid },
    );
    return toPhoneNumberDto({ ...row, ...patch });
  }

  /**
   * Releases the number at Twilio. The release is stored first: when Twilio's answer is lost, or the
   * number cannot be marked released after Twilio released it, the next sync finishes it.
   */
  async releaseNumber(sid: string): Promise<PhoneNumberDto> {
    const row = await this.activeNumber(sid);
    await this.askTwilio(sid, { release: true }, () => this.releaseAtTwilio(sid));
    const releasedAt = new Date();
    await completeWithRetries(() => this.numbers.markReleased(sid, releasedAt), { resource: 'number', sid });
    appLogger().event('info', 'number_released', { sid, phone_number: maskPhoneNumber(row.phoneNumber) });
    return toPhoneNumberDto({ ...row, status: 'released', releasedAt });
  }

  private async releaseAtTwilio(sid: string): Promise<void> {
    try {
      await this.gateway.releaseNumber(sid);
    } catch (error) {
      // Already gone at Twilio (released in the console): what the caller wanted is true.
      if (!(error instanceof TwilioGatewayError && error.kind === 'not_found')) throw error;
    }
  }

  /**
   * Stores `change` on the number, then asks Twilio. A refusal (Twilio did not act) clears it, so
   * the number stands as before; an outcome we cannot know keeps it for the next sync to finish.
   */
  private async askTwilio<T>(sid: string, change: PendingNumberChange, ask: () => Promise<T>): Promise<T> {
    if (!(await storeIntent(() => this.numbers.setPendingChange(sid, change)))) throw AppError.notFound('Phone number', sid);
    try {
      return await ask();
    } catch (error) {
      // our own answers (a 404 for a number Twilio no longer has) settle the number themselves
      const refused = error instanceof TwilioGatewayError ? !twilioMayHaveActed(error) : error instanceof AppError;
      if (refused) {
        await this.numbers.setPendingChange(sid, null).catch(() => undefined);
      } else {
        appLogger().event('warn', 'number_change_outcome_unknown', {
          sid,
          change: 'release' in change ? 'release' : 'update',
          error: error instanceof Error ? error.message : String(error),
        });
      }
      throw error;
    }
  }

  /**
   * Finishes a change Twilio's answer never confirmed on a number Twilio still lists: asks again
   * (releasing, or setting the same fields, does the same twice); null when the number is released.
   */
  private async applyPending(row: PhoneNumberEntity, current: OwnedNumber): Promise<OwnedNumber | null> {
    const change = row.pendingChange;
    if (!change) return current;
    try {
      if ('release' in change) {
        await this.releaseAtTwilio(current.sid);
        await this.numbers.markReleased(current.sid, new Date());
        appLogger().event('info', 'number_released', { sid: current.sid, phone_number: maskPhoneNumber(current.phoneNumber) });
        return null;
      }
      const updated = await this.gateway.updateNumberWebhooks(current.sid, change.update.webhooks, change.update.friendlyName);
      await this.numbers.setPendingChange(current.sid, null);
      return updated;
    } catch (error) {
      appLogger().event('warn', 'number_change_not_finished', {
        sid: current.sid,
        error: error instanceof Error ? error.message : String(error),
      });
      return current;
    }
  }

  private async activeNumber(sid: string): Promise<PhoneNumberEntity> {
    const row = await this.numbers.findBySid(sid);
    if (row?.status !== 'active') throw AppError.notFound('Phone number', sid);
    return row;
  }

  /** A Twilio 404 for a number we think we own means it was released elsewhere: record that. */
  private async atTwilio<T>(sid: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof TwilioGatewayError && error.kind === 'not_found') {
        await this.numbers.markReleased(sid, new Date());
        throw AppError.notFound('Phone number', sid);
      }
      throw error;
    }
  }

  /** How many numbers we hold now (not released). */
  countOwnedNumbers(): Promise<number> {
    return this.numbers.countActive();
  }

  private async reconcile(owned: OwnedNumber[]): Promise<void> {
    const atTwilio = new Map(owned.map((n) => [n.sid, n]));
    const stored = await this.numbers.listActive();
    const storedSids = new Set(stored.map((n) => n.sid));
    const now = new Date();
    for (const row of stored) {
      const listed = row.sid === null ? undefined : atTwilio.get(row.sid);
      if (!listed) {
        if (row.sid !== null) await this.numbers.markReleased(row.sid, now);
        continue;
      }
      const current = await this.applyPending(row, listed);
      if (!current) continue;
      const patch = changedFields(row, entityFieldsOf(current));
      if (patch) await this.numbers.update(current.sid, patch);
    }
    for (const number of owned) {
      if (storedSids.has(number.sid)) continue;
      if (await this.completePurchaseOf(number)) continue;
      const previous = await this.numbers.findBySid(number.sid);
      if (previous) {
        await this.numbers.adoptListed(number.sid, entityFieldsOf(number));
      } else {
        await this.numbers.insertIfAbsent({ ...entityFieldsOf(number), purchasedBy: null, releasedAt: null });
      }
    }
    await this.failPurchasesNotMade(new Set(owned.map((n) => n.phoneNumber)), now);
  }

  /** Twilio owns `number` and a purchase of it waits for Twilio's answer: that purchase bought it. */
  private async completePurchaseOf(number: OwnedNumber): Promise<boolean> {
    const intent = await this.numbers.findHolderOf(number.phoneNumber);
    if (intent?.sid !== null) return false;
    const completed = await this.numbers.completeIntent(intent.id, entityFieldsOf(number));
    if (completed) {
      appLogger().event('info', 'number_purchase_resolved', {
        record_id: intent.id,
        sid: number.sid,
        phone_number: maskPhoneNumber(number.phoneNumber),
      });
    }
    return completed !== null;
  }

  /** Purchases older than the intent window whose number Twilio does not have: Twilio never bought it. */
  private async failPurchasesNotMade(ownedPhoneNumbers: Set<string>, now: Date): Promise<void> {
    const giveUpBefore = now.getTime() - this.config.reconcile.intentWindowSeconds * 1000;
    for (const intent of await this.numbers.listUnresolvedIntents()) {
      if (ownedPhoneNumbers.has(intent.phoneNumber) || intent.createdAt.getTime() >= giveUpBefore) continue;
      if (await this.numbers.failIntent(intent.id)) {
        appLogger().event('warn', 'number_purchase_failed', {
          record_id: intent.id,
          phone_number: maskPhoneNumber(intent.phoneNumber),
          reason: 'Twilio does not own the number: it never received the purchase',
        });
      }
    }
  }
}

/** 409 for a number held by another row: owned, or bought by a purchase whose outcome is not known yet. */
function alreadyHeld(phoneNumber: string, held: PhoneNumberEntity | null): AppError {
  const message =
    held === null || held.status === 'active'
      ? `${phoneNumber} is already owned by this service${held?.sid ? ` (${held.sid})` : ''}`
      : `${phoneNumber} is being bought by an earlier purchase (id ${held.id}, status ${held.status}); ` +
        'GET /api/phone/numbers shows it once Twilio has confirmed it';
  return new AppError(HttpStatus.CONFLICT, 'conflict', message, [
    { field: 'phone_number', message: 'this number is already owned or being bought' },
  ]);
}

/** A callback URL as Twilio calls it: the connection overrides in the fragment are not part of where it goes. */
function withoutFragment(url: string): string {
  const hashAt = url.indexOf('#');
  return hashAt < 0 ? url : url.slice(0, hashAt);
}

function entityFieldsOf(n: OwnedNumber) {
  return {
    sid: n.sid,
    phoneNumber: n.phoneNumber,
    friendlyName: n.friendlyName.slice(0, 64),
    capabilities: n.capabilities,
    voiceUrl: n.voiceUrl,
    smsUrl: n.smsUrl,
    statusCallbackUrl: n.statusCallbackUrl,
  };
}

function changedFields(row: PhoneNumberEntity, fresh: ReturnType<typeof entityFieldsOf>): Partial<PhoneNumberEntity> | null {
  const patch: Partial<PhoneNumberEntity> = {};
  if (row.friendlyName !== fresh.friendlyName) patch.friendlyName = fresh.friendlyName;
  if (row.voiceUrl !== fresh.voiceUrl) patch.voiceUrl = fresh.voiceUrl;
  if (row.smsUrl !== fresh.smsUrl) patch.smsUrl = fresh.smsUrl;
  if (row.statusCallbackUrl !== fresh.statusCallbackUrl) patch.statusCallbackUrl = fresh.statusCallbackUrl;
  const caps = row.capabilities ?? { voice: false, sms: false, mms: false };
  if (caps.voice !== fresh.capabilities.voice || caps.sms !== fresh.capabilities.sms || caps.mms !== fresh.capabilities.mms) {
    patch.capabilities = fresh.capabilities;
  }
  return Object.keys(patch).length ? patch : null;
}

export function toAvailableNumberDto(n: AvailableNumber): AvailableNumberDto {
  return {
    phone_number: n.phoneNumber,
    friendly_name: n.friendlyName,
    locality: n.locality,
    region: n.region,
    postal_code: n.postalCode,
    iso_country: n.isoCountry,
    capabilities: { voice: n.capabilities.voice, sms: n.capabilities.sms, mms: n.capabilities.mms },
  };
}

export function toPhoneNumberDto(n: PhoneNumberEntity): PhoneNumberDto {
  return {
    id: n.id,
    sid: n.sid,
    status: n.status,
    phone_number: n.phoneNumber,
    friendly_name: n.friendlyName,
    capabilities: { voice: !!n.capabilities?.voice, sms: !!n.capabilities?.sms, mms: !!n.capabilities?.mms },
    voice_url: n.voiceUrl,
    sms_url: n.smsUrl,
    status_callback_url: n.statusCallbackUrl,
    assistant_id: n.assistantId ?? null,
    purchased_by: n.purchasedBy,
    released_at: n.releasedAt ? n.releasedAt.toISOString() : null,
    created_at: n.createdAt.toISOString(),
  };
}
