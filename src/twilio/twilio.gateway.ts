import {
  AccountInfo,
  AvailableNumber,
  Balance,
  CallSnapshot,
  MessageSnapshot,
  NumberSearch,
  NumberWebhooks,
  OwnedNumber,
  PlaceCallInput,
  RecordingFormat,
  RecordingMediaAnswer,
  RecordingSnapshot,
  SendMessageInput,
  TwilioListFilter,
  TwilioTarget,
  TwilioWalkOptions,
} from './twilio.types';

/**
 * Everything the service asks of Twilio. An abstract class so it doubles as the DI token;
 * the SDK implementation is bound by TwilioModule, tests may bind a fake.
 * Methods throw TwilioGatewayError for every Twilio-side failure.
 */
export abstract class TwilioGateway {
  abstract readonly target: TwilioTarget;
  abstract readonly accountSid: string;

  abstract searchAvailableNumbers(search: NumberSearch): Promise<AvailableNumber[]>;
  abstract purchaseNumber(phoneNumber: string, friendlyName: string | undefined, webhooks: NumberWebhooks): Promise<OwnedNumber>;
  abstract listOwnedNumbers(): Promise<OwnedNumber[]>;
  abstract updateNumberWebhooks(sid: string, webhooks: NumberWebhooks, friendlyName?: string): Promise<OwnedNumber>;
  abstract releaseNumber(sid: string): Promise<void>;

  abstract placeCall(input: PlaceCallInput): Promise<CallSnapshot>;
  abstract fetchCall(sid: string): Promise<CallSnapshot>;
  abstract endCall(sid: string, status: 'completed' | 'canceled'): Promise<CallSnapshot>;
  /** Replaces what a live call is doing with `twiml` (Twilio's live call modification). */
  abstract redirectCall(sid: string, twiml: string): Promise<CallSnapshot>;
  /**
   * Calls created at or after `since` (both directions), newest first, at most `limit`: what
   * reconciliation compares with the stored records when no webhook arrived.
   */
  abstract listCallsCreatedSince(since: Date, filter?: TwilioListFilter, limit?: number): Promise<CallSnapshot[]>;
  /**
   * The account's calls created at or after `since`, newest first, handed to `handle` one page at a
   * time (the next page is requested after `handle` resolves), so memory stays at one page.
   * Returns false when `shouldContinue` stopped the walk before the end.
   */
  abstract walkCallsCreatedSince(
    since: Date,
    handle: (page: CallSnapshot[]) => Promise<void>,
    options?: TwilioWalkOptions,
  ): Promise<boolean>;
  /** The recordings of one call (reconciliation recovers lost recording callbacks with it). */
  abstract listCallRecordings(callSid: string): Promise<RecordingSnapshot[]>;
  /**
   * Streams a recording's media with the service's credentials, passing a byte `range` (`bytes=0-99`)
   * on; `signal` aborts the download (the client went away). Throws once Twilio answered an error.
   */
  abstract fetchRecordingMedia(
    sid: string,
    format: RecordingFormat,
    options?: { range?: string; signal?: AbortSignal },
  ): Promise<RecordingMediaAnswer>;

  abstract sendMessage(input: SendMessageInput): Promise<MessageSnapshot>;
  abstract fetchMessage(sid: string): Promise<MessageSnapshot>;
  /** Messages created at or after `since` (both directions), newest first, at most `limit`. */
  abstract listMessagesCreatedSince(since: Date, filter?: TwilioListFilter, limit?: number): Promise<MessageSnapshot[]>;
  /** The account's messages created at or after `since`, page by page (see walkCallsCreatedSince). */
  abstract walkMessagesCreatedSince(
    since: Date,
    handle: (page: MessageSnapshot[]) => Promise<void>,
    options?: TwilioWalkOptions,
  ): Promise<boolean>;
  /** Absolute URLs of a message's media (Twilio's Media subresource), in order. */
  abstract listMessageMediaUrls(messageSid: string): Promise<string[]>;

  abstract fetchBalance(): Promise<Balance>;
  abstract fetchAccount(): Promise<AccountInfo>;

  /** Checks X-Twilio-Signature of a form-encoded webhook against the URL Twilio called. */
  abstract isValidSignature(signature: string, url: string, params: Record<string, string | string[]>): boolean;
  /** Checks X-Twilio-Signature of a JSON webhook (URL carries bodySHA256). */
  abstract isValidSignatureWithBody(signature: string, url: string, rawBody: string): boolean;
}
