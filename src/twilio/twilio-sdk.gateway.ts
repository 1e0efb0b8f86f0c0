import twilio from 'twilio';
import { currentRequestTiming } from '../common/server-timing';
import { TwilioGatewayError, classifyTwilioError } from './twilio.errors';
import { TwilioGateway } from './twilio.gateway';
import { createTwilioClient } from './twilio-http-client';
import { fetchRecordingMedia } from './recording-media';
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
  RecordingFormat,
  RecordingMediaAnswer,
  RecordingSnapshot,
  DEFAULT_LIST_LIMIT,
  SendMessageInput,
  TwilioListFilter,
  TwilioTarget,
  TwilioWalkOptions,
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
  /** Told about every request: operation (the gateway method), outcome (`ok` or the error kind), seconds. */
  observe?: (operation: string, outcome: string, seconds: number) => void;
}

/** The only code that talks to Twilio: the real SDK, pointed at Twilio or at a compatible host. */
export class TwilioSdkGateway extends TwilioGateway {
  readonly target: TwilioTarget;
  readonly accountSid: string;
  private readonly authToken: string;
  private readonly timeoutMs: number;
  private readonly client: Client;
  private readonly observe: NonNullable<TwilioSdkGatewayOptions['observe']>;

  constructor(options: TwilioSdkGatewayOptions) {
    super();
    this.target = options.target;
    this.accountSid = options.accountSid;
    this.authToken = options.authToken;
    this.timeoutMs = options.timeoutMs;
    this.observe = options.observe ?? (() => undefined);
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
    const found = await this.call('searchAvailableNumbers', async () => {
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
    const created = await this.call('purchaseNumber', () =>
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
    const numbers = await this.call('listOwnedNumbers', () => this.client.incomingPhoneNumbers.list({ pageSize: 1000 }));
    return numbers.map(ownedNumberOf);
  }

  async updateNumberWebhooks(sid: string, webhooks: NumberWebhooks, friendlyName?: string): Promise<OwnedNumber> {
    const updated = await this.call('updateNumberWebhooks', () =>
      this.client.incomingPhoneNumbers(sid).update({
        ...(friendlyName !== undefined ? { friendlyName } : {}),
        // our webhook routes take POST only: a URL we set is always paired with its method
        ...(webhooks.voiceUrl !== undefined ? { voiceUrl: webhooks.voiceUrl, voiceMethod: 'POST' } : {}),
        ...(webhooks.smsUrl !== undefined ? { smsUrl: webhooks.smsUrl, smsMethod: 'POST' } : {}),
        ...(webhooks.statusCallbackUrl !== undefined ? { statusCallback: webhooks.statusCallbackUrl, statusCallbackMethod: 'POST' } : {}),
      }),
    );
    return ownedNumberOf(updated);
  }

  async releaseNumber(sid: string): Promise<void> {
    await this.call('releaseNumber', () => this.client.incomingPhoneNumbers(sid).remove());
  }

  async placeCall(input: PlaceCallInput): Promise<CallSnapshot> {
    const call = await this.call('placeCall', () =>
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
        ...(input.asyncAmdCallbackUrl
          ? {
              machineDetection: 'DetectMessageEnd',
              asyncAmd: 'true',
              asyncAmdStatusCallback: input.asyncAmdCallbackUrl,
              asyncAmdStatusCallbackMethod: 'POST',
            }
          : input.machineDetection
            ? { machineDetection: 'Enable' }
            : {}),
      }),
    );
    return callSnapshotOf(call);
  }

  async fetchCall(sid: string): Promise<CallSnapshot> {
    return callSnapshotOf(await this.call('fetchCall', () => this.client.calls(sid).fetch()));
  }

  async endCall(sid: string, status: 'completed' | 'canceled'): Promise<CallSnapshot> {
    return callSnapshotOf(await this.call('endCall', () => this.client.calls(sid).update({ status })));
  }

  async redirectCall(sid: string, twiml: string): Promise<CallSnapshot> {
    return callSnapshotOf(await this.call('redirectCall', () => this.client.calls(sid).update({ twiml })));
  }

  async listCallsCreatedSince(since: Date, filter: TwilioListFilter = {}, limit = DEFAULT_LIST_LIMIT): Promise<CallSnapshot[]> {
    const first = await this.call('listCallsCreatedSince', () => this.client.calls.page({ pageSize: LIST_PAGE_SIZE, ...filter }));
    return this.collectSince(first, since, limit, callSnapshotOf);
  }

  async walkCallsCreatedSince(
    since: Date,
    handle: (page: CallSnapshot[]) => Promise<void>,
    options: TwilioWalkOptions = {},
  ): Promise<boolean> {
    const first = await this.call('walkCallsCreatedSince', () => this.client.calls.page({ pageSize: options.pageSize ?? LIST_PAGE_SIZE }));
    return this.walkSince(first, since, callSnapshotOf, handle, options);
  }

  async listCallRecordings(callSid: string): Promise<RecordingSnapshot[]> {
    const recordings = await this.call('listCallRecordings', () => this.client.recordings.list({ callSid, limit: 100 }));
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

  /** Not through the SDK: it buffers whole bodies, and the media is streamed to the client as it arrives. */
  fetchRecordingMedia(
    sid: string,
    format: RecordingFormat,
    options: { range?: string; signal?: AbortSignal } = {},
  ): Promise<RecordingMediaAnswer> {
    const url = `${this.target.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${this.accountSid}/Recordings/${encodeURIComponent(sid)}`;
    return this.call('fetchRecordingMedia', () =>
      fetchRecordingMedia({
        url,
        sid,
        format,
        accountSid: this.accountSid,
        authToken: this.authToken,
        timeoutMs: this.timeoutMs,
        ...options,
      }),
    );
  }

  async sendMessage(input: SendMessageInput): Promise<MessageSnapshot> {
    const message = await this.call('sendMessage', () =>
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
    return messageSnapshotOf(await this.call('fetchMessage', () => this.client.messages(sid).fetch()));
  }

  async listMessagesCreatedSince(since: Date, filter: TwilioListFilter = {}, limit = DEFAULT_LIST_LIMIT): Promise<MessageSnapshot[]> {
    const first = await this.call('listMessagesCreatedSince', () => this.client.messages.page({ pageSize: LIST_PAGE_SIZE, ...filter }));
    return this.collectSince(first, since, limit, messageSnapshotOf);
  }

  async walkMessagesCreatedSince(
    since: Date,
    handle: (page: MessageSnapshot[]) => Promise<void>,
    options: TwilioWalkOptions = {},
  ): Promise<boolean> {
    const first = await this.call('walkMessagesCreatedSince', () =>
      this.client.messages.page({ pageSize: options.pageSize ?? LIST_PAGE_SIZE }),
    );
    return this.walkSince(first, since, messageSnapshotOf, handle, options);
  }

  async listMessageMediaUrls(messageSid: string): Promise<string[]> {
    const media = await this.call('listMessageMediaUrls', () => this.client.messages(messageSid).media.list({ limit: 100 }));
    // the resource's uri without `.json` is the media itself, as Twilio's MediaUrl parameters give it
    return media.map((m) => new URL(m.uri.replace(/\.json$/, ''), this.target.baseUrl).toString());
  }

  async fetchBalance(): Promise<Balance> {
    const balance = await this.call('fetchBalance', () => this.client.balance.fetch());
    return { balance: String(balance.balance), currency: String(balance.currency).toUpperCase() };
  }

  async fetchAccount(): Promise<AccountInfo> {
    const account = await this.call('fetchAccount', () => this.client.api.v2010.accounts(this.accountSid).fetch());
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
      page = next ? await this.call('listNextPage', () => next) : undefined;
    }
    return found;
  }

  /**
   * Hands Twilio's pages (newest first) to `handle`, each cut to what was created at or after
   * `since`; stops after the first page holding an older resource. False when `shouldContinue` said stop.
   */
  private async walkSince<I extends { dateCreated: Date }, S>(
    first: SdkPage<I>,
    since: Date,
    snapshotOf: (instance: I) => S,
    handle: (page: S[]) => Promise<void>,
    options: TwilioWalkOptions,
  ): Promise<boolean> {
    const cutoff = Math.floor(since.getTime() / 1000) * 1000;
    let page: SdkPage<I> = first;
    for (;;) {
      const kept = page.instances.filter((i) => !i.dateCreated || i.dateCreated.getTime() >= cutoff);
      if (kept.length) await handle(kept.map(snapshotOf));
      if (kept.length < page.instances.length || page.instances.length === 0) return true;
      if (options.shouldContinue && !options.shouldContinue()) return false;
      const next: Promise<SdkPage<I>> | undefined = page.nextPage();
      if (!next) return true;
      page = await this.call('listNextPage', () => next);
    }
  }

  /** Runs one SDK request and turns every failure into a TwilioGatewayError. */
  private async call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    // the request being served waits on Twilio meanwhile: its Server-Timing says how long
    const timing = currentRequestTiming();
    timing?.begin('twilio');
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const result = await request();
      this.observe(operation, 'ok', seconds());
      return result;
    } catch (error) {
      const failure = toGatewayError(error);
      this.observe(operation, failure.kind, seconds());
      throw failure;
    } finally {
      timing?.end('twilio');
    }
  }
}

function toGatewayError(error: unknown): TwilioGatewayError {
  if (error instanceof TwilioGatewayError) return error;
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
    statusCallbackMethod: n.statusCallbackMethod ? n.statusCallbackMethod.toUpperCase() : null,
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
    parentCallSid: c.parentCallSid ?? null,
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
