import twilio from 'twilio';
import { TwilioGatewayError, classifyTwilioError } from './twilio.errors';
import { TwilioGateway } from './twilio.gateway';
import { createTwilioClient } from './twilio-http-client';
import {
  AccountInfo,
  AvailableNumber,
  Balance,
  CallSnapshot,
  CallStatus,
  Capabilities,
  Direction,
  MessageSnapshot,
  MessageStatus,
  NumberSearch,
  NumberWebhooks,
  OwnedNumber,
  PlaceCallInput,
  RecordingSnapshot,
  DEFAULT_LIST_LIMIT,
  SendMessageInput,
  TwilioListFilter,
  TwilioTarget,
} from './twilio.types';

type Client = ReturnType<typeof twilio>;
type CallInstance = Awaited<ReturnType<Client['calls']['create']>>;
type MessageInstance = Awaited<ReturnType<Client['messages']['create']>>;
type IncomingNumberInstance = Awaited<ReturnType<Client['incomingPhoneNumbers']['create']>>;

/** The part of the SDK's Page that walking a list needs. */
interface SdkPage<I> {
  instances: I[];
  /** undefined on the last page. */
  nextPage(): Promise<SdkPage<I>> | undefined;
}

const CALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];
/** Twilio's largest page size. */
const LIST_PAGE_SIZE = 1000;

export interface TwilioSdkGatewayOptions {
  accountSid: string;
  authToken: string;
  target: TwilioTarget;
  timeoutMs: number;
}

/** The only code that talks to Twilio: the real SDK, pointed at Twilio or at a compatible host. */
export class TwilioSdkGateway extends TwilioGateway {
  readonly target: TwilioTarget;
  readonly accountSid: string;
  private readonly authToken: string;
  private readonly client: Client;

  constructor(options: TwilioSdkGatewayOptions) {
    super();
    this.target = options.target;
    this.accountSid = options.accountSid;
    this.authToken = options.authToken;
    const baseUrl = options.target.baseUrl === 'https://api.twilio.com' ? undefined : options.target.baseUrl;
    this.client = createTwilioClient(options.accountSid, options.authToken, { baseUrl, timeoutMs: options.timeoutMs });
  }

  async searchAvailableNumbers(search: NumberSearch): Promise<AvailableNumber[]> {
    const country = this.client.availablePhoneNumbers(search.country);
    const query = {
      areaCode: search.areaCode,
      contains: search.contains,
      smsEnabled: search.smsEnabled,
      voiceEnabled: search.voiceEnabled,
      mmsEnabled: search.mmsEnabled,
      limit: search.limit,
    };
    const found = await this.call(async () => {
      switch (search.type) {
        case 'toll_free':
          return country.tollFree.list(query);
        case 'mobile':
          return country.mobile.list(query);
        case 'local':
          return country.local.list(query);
      }
    });
    return found.map((n) => ({
      phoneNumber: n.phoneNumber,
      friendlyName: n.friendlyName,
      locality: n.locality || null,
      region: n.region || null,
      postalCode: n.postalCode || null,
      isoCountry: n.isoCountry,
      capabilities: capabilitiesOf(n.capabilities),
    }));
  }

  async purchaseNumber(phoneNumber: string, friendlyName: string | undefined, webhooks: NumberWebhooks): Promise<OwnedNumber> {
    const created = await this.call(() =>
      this.client.incomingPhoneNumbers.create({
        phoneNumber,
        friendlyName,
        voiceUrl: webhooks.voiceUrl,
        voiceMethod: 'POST',
        smsUrl: webhooks.smsUrl,
        smsMethod: 'POST',
        statusCallback: webhooks.statusCallbackUrl,
        statusCallbackMethod: 'POST',
      }),
    );
    return ownedNumberOf(created);
  }

  async listOwnedNumbers(): Promise<OwnedNumber[]> {
    const numbers = await this.call(() => this.client.incomingPhoneNumbers.list({ pageSize: 1000 }));
    return numbers.map(ownedNumberOf);
  }

  async updateNumberWebhooks(sid: string, webhooks: NumberWebhooks, friendlyName?: string): Promise<OwnedNumber> {
    const updated = await this.call(() =>
      this.client.incomingPhoneNumbers(sid).update({
        ...(friendlyName !== undefined ? { friendlyName } : {}),
        voiceUrl: webhooks.voiceUrl,
        smsUrl: webhooks.smsUrl,
        statusCallback: webhooks.statusCallbackUrl,
      }),
    );
    return ownedNumberOf(updated);
  }

  async releaseNumber(sid: string): Promise<void> {
    await this.call(() => this.client.incomingPhoneNumbers(sid).remove());
  }

  async placeCall(input: PlaceCallInput): Promise<CallSnapshot> {
    const call = await this.call(() =>
      this.client.calls.create({
        to: input.to,
        from: input.from,
        ...(input.twimlUrl ? { url: input.twimlUrl, method: 'POST' } : { twiml: input.twiml! }),
        statusCallback: input.statusCallbackUrl,
        statusCallbackMethod: 'POST',
        statusCallbackEvent: CALL_EVENTS,
        record: input.record,
        ...(input.record && input.recordingStatusCallbackUrl
          ? { recordingStatusCallback: input.recordingStatusCallbackUrl, recordingStatusCallbackEvent: ['completed'] }
          : {}),
        timeout: input.timeoutSeconds,
        ...(input.machineDetection ? { machineDetection: 'Enable' } : {}),
      }),
    );
    return callSnapshotOf(call);
  }

  async fetchCall(sid: string): Promise<CallSnapshot> {
    return callSnapshotOf(await this.call(() => this.client.calls(sid).fetch()));
  }

  async endCall(sid: string, status: 'completed' | 'canceled'): Promise<CallSnapshot> {
    return callSnapshotOf(await this.call(() => this.client.calls(sid).update({ status })));
  }

  async listCallsCreatedSince(since: Date, filter: TwilioListFilter = {}, limit = DEFAULT_LIST_LIMIT): Promise<CallSnapshot[]> {
    const first = await this.call(() => this.client.calls.page({ pageSize: LIST_PAGE_SIZE, ...filter }));
    return this.collectSince(first, since, limit, callSnapshotOf);
  }

  async listCallRecordings(callSid: string): Promise<RecordingSnapshot[]> {
    const recordings = await this.call(() => this.client.recordings.list({ callSid, limit: 100 }));
    return recordings.map((r) => ({
      sid: r.sid,
      callSid: r.callSid,
      status: String(r.status),
      durationSeconds: r.duration === null || r.duration === undefined || Number(r.duration) < 0 ? null : Number(r.duration),
      channels: r.channels ?? null,
      source: r.source ? String(r.source) : null,
      startTime: r.startTime ?? null,
      mediaUrl: r.mediaUrl ? new URL(r.mediaUrl, this.target.baseUrl).toString() : null,
    }));
  }

  async sendMessage(input: SendMessageInput): Promise<MessageSnapshot> {
    const message = await this.call(() =>
      this.client.messages.create({
        to: input.to,
        from: input.from,
        ...(input.body ? { body: input.body } : {}),
        ...(input.mediaUrls?.length ? { mediaUrl: input.mediaUrls } : {}),
        ...(input.statusCallbackUrl ? { statusCallback: input.statusCallbackUrl } : {}),
      }),
    );
    return messageSnapshotOf(message);
  }

  async fetchMessage(sid: string): Promise<MessageSnapshot> {
    return messageSnapshotOf(await this.call(() => this.client.messages(sid).fetch()));
  }

  async listMessagesCreatedSince(since: Date, filter: TwilioListFilter = {}, limit = DEFAULT_LIST_LIMIT): Promise<MessageSnapshot[]> {
    const first = await this.call(() => this.client.messages.page({ pageSize: LIST_PAGE_SIZE, ...filter }));
    return this.collectSince(first, since, limit, messageSnapshotOf);
  }

  async fetchBalance(): Promise<Balance> {
    const balance = await this.call(() => this.client.balance.fetch());
    return { balance: String(balance.balance), currency: String(balance.currency).toUpperCase() };
  }

  async fetchAccount(): Promise<AccountInfo> {
    const account = await this.call(() => this.client.api.v2010.accounts(this.accountSid).fetch());
    return { sid: account.sid, status: account.status, friendlyName: account.friendlyName ?? null };
  }

  isValidSignature(signature: string, url: string, params: Record<string, string | string[]>): boolean {
    return twilio.validateRequest(this.authToken, signature, url, params);
  }

  isValidSignatureWithBody(signature: string, url: string, rawBody: string): boolean {
    return twilio.validateRequestWithBody(this.authToken, signature, url, rawBody);
  }

  /**
   * Walks Twilio's pages (newest first) and keeps what was created at or after `since`, stopping at
   * the first older resource or at `limit`.
   */
  private async collectSince<I extends { dateCreated: Date }, S>(
    first: SdkPage<I>,
    since: Date,
    limit: number,
    snapshotOf: (instance: I) => S,
  ): Promise<S[]> {
    // Twilio's dates have whole seconds: a resource created in the same second as `since` is kept.
    const cutoff = Math.floor(since.getTime() / 1000) * 1000;
    const found: S[] = [];
    let page: SdkPage<I> | undefined = first;
    while (page) {
      for (const instance of page.instances) {
        if (instance.dateCreated && instance.dateCreated.getTime() < cutoff) return found;
        found.push(snapshotOf(instance));
        if (found.length >= limit) return found;
      }
      const next: Promise<SdkPage<I>> | undefined = page.instances.length ? page.nextPage() : undefined;
      page = next ? await this.call(() => next) : undefined;
    }
    return found;
  }

  /** Runs one SDK request and turns every failure into a TwilioGatewayError. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toGatewayError(error);
    }
  }
}

function toGatewayError(error: unknown): TwilioGatewayError {
  if (error instanceof twilio.RestException) {
    return classifyTwilioError(error.status, error.code ?? undefined, error.message);
  }
  const network = error as { code?: string; message?: string };
  if (network.code === 'ECONNABORTED' || network.code === 'ETIMEDOUT' || /timeout/i.test(network.message ?? '')) {
    return new TwilioGatewayError('timeout', 'Twilio did not answer in time');
  }
  const notSent = NOT_SENT_CODES.has(network.code ?? '');
  return new TwilioGatewayError(
    'unavailable',
    `Twilio could not be reached: ${network.message ?? String(error)}`,
    undefined,
    undefined,
    !notSent,
  );
}

/** Network failures that happen before a byte of the request leaves: Twilio surely did nothing. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT_HAS_EXPIRED']);

/** Twilio capitalises some capability keys ("SMS", "MMS") on available numbers; read them case-insensitively. */
function capabilitiesOf(raw: unknown): Capabilities {
  const lower: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) lower[key.toLowerCase()] = value;
  return { voice: lower.voice === true, sms: lower.sms === true, mms: lower.mms === true };
}

function ownedNumberOf(n: IncomingNumberInstance): OwnedNumber {
  return {
    sid: n.sid,
    phoneNumber: n.phoneNumber,
    friendlyName: n.friendlyName,
    capabilities: capabilitiesOf(n.capabilities),
    voiceUrl: n.voiceUrl || null,
    smsUrl: n.smsUrl || null,
    statusCallbackUrl: n.statusCallback || null,
    dateCreated: n.dateCreated ?? null,
  };
}

export function mapCallStatus(status: string): CallStatus {
  switch (status) {
    case 'queued':
    case 'initiated':
    case 'ringing':
    case 'in-progress':
    case 'completed':
    case 'busy':
    case 'no-answer':
    case 'failed':
    case 'canceled':
      return status;
    default:
      throw new TwilioGatewayError('unavailable', `Twilio returned an unknown call status "${status}"`);
  }
}

export function mapMessageStatus(status: string): MessageStatus {
  switch (status) {
    case 'accepted':
    case 'scheduled':
    case 'queued':
    case 'sending':
    case 'sent':
    case 'delivered':
    case 'undelivered':
    case 'failed':
    case 'receiving':
    case 'received':
    case 'read':
    case 'canceled':
      return status;
    case 'partially_delivered':
      return 'delivered';
    default:
      throw new TwilioGatewayError('unavailable', `Twilio returned an unknown message status "${status}"`);
  }
}

export function mapDirection(direction: string): Direction {
  switch (direction) {
    case 'inbound':
      return 'inbound';
    case 'outbound-api':
    case 'outbound-dial':
    case 'outbound-call':
    case 'outbound-reply':
    case 'trunking-originating':
    case 'trunking-terminating':
      return 'outbound';
    default:
      throw new TwilioGatewayError('unavailable', `Twilio returned an unknown direction "${direction}"`);
  }
}

function intOrNull(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : null;
}

/** The SDK types a price as a string; the API sends a decimal string, a number or null. */
function priceOrNull(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? String(value) : null;
}

function callSnapshotOf(c: CallInstance): CallSnapshot {
  return {
    sid: c.sid,
    direction: mapDirection(c.direction),
    from: c.from,
    to: c.to,
    status: mapCallStatus(c.status),
    startTime: c.startTime ?? null,
    endTime: c.endTime ?? null,
    durationSeconds: intOrNull(c.duration),
    price: priceOrNull(c.price),
    priceUnit: c.priceUnit ? c.priceUnit.toUpperCase() : null,
    answeredBy: c.answeredBy ?? null,
    queueTimeMs: intOrNull(c.queueTime),
    dateCreated: c.dateCreated ?? null,
  };
}

function messageSnapshotOf(m: MessageInstance): MessageSnapshot {
  return {
    sid: m.sid,
    direction: mapDirection(m.direction),
    from: m.from,
    to: m.to,
    body: m.body ?? '',
    status: mapMessageStatus(m.status),
    segments: intOrNull(m.numSegments) ?? 1,
    mediaCount: intOrNull(m.numMedia) ?? 0,
    errorCode: m.errorCode ?? null,
    errorMessage: m.errorMessage ?? null,
    price: priceOrNull(m.price),
    priceUnit: m.priceUnit ? m.priceUnit.toUpperCase() : null,
    dateSent: m.dateSent ?? null,
    dateCreated: m.dateCreated ?? null,
  };
}
