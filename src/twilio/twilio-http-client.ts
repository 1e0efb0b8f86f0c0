import twilio from 'twilio';

export interface TwilioClientOptions {
  /** Where API requests go instead of https://api.twilio.com, e.g. the sandbox's base URL. */
  baseUrl?: string;
  /** Per-request timeout; the SDK's default is 30 s. */
  timeoutMs?: number;
  /** Retry 429 answers with the SDK's exponential backoff. */
  autoRetry?: boolean;
  maxRetries?: number;
}

export type TwilioClient = twilio.Twilio;

/** Sends every request of the SDK to `baseUrl`, keeping path and query (also for next-page links). */
export class BaseUrlRequestClient extends twilio.RequestClient {
  private readonly target: URL;

  constructor(baseUrl: string, opts: ConstructorParameters<typeof twilio.RequestClient>[0]) {
    super(opts);
    this.target = new URL(baseUrl);
  }

  override request<TData>(opts: Parameters<twilio.RequestClient['request']>[0] & { data?: TData }) {
    const original = new URL(opts.uri);
    const prefix = this.target.pathname.replace(/\/$/, '');
    const uri = `${this.target.protocol}//${this.target.host}${prefix}${original.pathname}${original.search}`;
    return super.request<TData>({ ...opts, uri });
  }
}

export function createTwilioClient(accountSid: string, authToken: string, opts: TwilioClientOptions | string = {}): TwilioClient {
  const options = typeof opts === 'string' ? { baseUrl: opts } : opts;
  const clientOptions = {
    timeout: options.timeoutMs,
    autoRetry: options.autoRetry ?? false,
    maxRetries: options.maxRetries,
  };
  if (!options.baseUrl) return twilio(accountSid, authToken, clientOptions);
  const httpClient = new BaseUrlRequestClient(options.baseUrl, clientOptions);
  return twilio(accountSid, authToken, { ...clientOptions, httpClient });
}
