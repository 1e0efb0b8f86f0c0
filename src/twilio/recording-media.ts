import { Readable, Transform, pipeline } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { TwilioGatewayError, classifyTwilioError } from './twilio.errors';
import type { RecordingFormat, RecordingMediaAnswer } from './twilio.types';

const CONTENT_TYPES: Record<RecordingFormat, string> = { wav: 'audio/x-wav', mp3: 'audio/mpeg' };
/** Twilio may hand the media out from elsewhere (a CDN or storage URL); a few hops at most. */
const MAX_REDIRECTS = 3;
/** Network failures before a byte of the request left. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export interface RecordingMediaRequest {
  /** Media URL without extension: `{base}/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}`. */
  url: string;
  sid: string;
  format: RecordingFormat;
  accountSid: string;
  authToken: string;
  /** Until Twilio's answer starts, and then between two chunks of the body. */
  timeoutMs: number;
  range?: string;
  signal?: AbortSignal;
}

/**
 * Downloads a recording's media as a stream. The credentials go only to Twilio's own origin: a
 * redirect elsewhere (media storage) is followed without them. A silent Twilio, before the answer or
 * in the middle of the body, is given up on after `timeoutMs`; an abort of `signal` stops the download.
 */
export async function fetchRecordingMedia(req: RecordingMediaRequest): Promise<RecordingMediaAnswer> {
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, req.timeoutMs);
  };
  const onAbort = () => controller.abort();
  const release = () => {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  };
  if (req.signal?.aborted) controller.abort();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  arm();

  let res: Response;
  try {
    res = await follow(req, controller.signal);
  } catch (error) {
    release();
    throw networkError(error, timedOut);
  }
  if (res.status === 416) {
    release();
    await res.body?.cancel();
    return { status: 416, contentRange: res.headers.get('content-range') };
  }
  if (res.status !== 200 && res.status !== 206) {
    const text = await res.text().catch(() => '');
    release();
    throw mediaError(res.status, text, req.sid);
  }
  if (!res.body) {
    release();
    throw new TwilioGatewayError('unavailable', `Twilio answered recording ${req.sid} without its media`);
  }
  arm();
  const watch = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      arm();
      done(null, chunk);
    },
  });
  const body = pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), watch, () => release());
  const length = res.headers.get('content-length');
  return {
    status: res.status === 206 ? 206 : 200,
    contentType: res.headers.get('content-type') ?? CONTENT_TYPES[req.format],
    contentLength: length !== null && /^\d+$/.test(length) ? Number(length) : null,
    contentRange: res.headers.get('content-range'),
    acceptRanges: res.headers.get('accept-ranges'),
    body,
  };
}

async function follow(req: RecordingMediaRequest, signal: AbortSignal): Promise<Response> {
  const twilioOrigin = new URL(req.url).origin;
  let url = `${req.url}.${req.format}`;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { accept: CONTENT_TYPES[req.format] };
    if (new URL(url).origin === twilioOrigin) {
      headers.authorization = `Basic ${Buffer.from(`${req.accountSid}:${req.authToken}`).toString('base64')}`;
    }
    if (req.range) headers.range = req.range;
    const res = await fetch(url, { headers, signal, redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) return res;
    await res.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw new TwilioGatewayError('unavailable', `Twilio redirected recording ${req.sid} too often`);
    url = new URL(location, url).toString();
  }
}

/** Twilio's error answer for the media, in our failure kinds; its own text is kept out of a 404 (it names the account). */
function mediaError(status: number, text: string, sid: string): TwilioGatewayError {
  let code: number | undefined;
  let message = `Twilio answered ${status} for recording ${sid}`;
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'number') code = body.code;
    if (typeof body.message === 'string' && body.message) message = body.message;
  } catch {
    // not JSON (an XML or HTML error page): the status says enough
  }
  if (status === 404) return new TwilioGatewayError('not_found', `Twilio has no media for recording ${sid}`, code);
  return classifyTwilioError(status, code, message);
}

function networkError(error: unknown, timedOut: boolean): TwilioGatewayError {
  if (error instanceof TwilioGatewayError) return error;
  if (timedOut) return new TwilioGatewayError('timeout', 'Twilio did not answer in time');
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new TwilioGatewayError(
    'unavailable',
    `Twilio could not be reached: ${reason}`,
    undefined,
    undefined,
    !NOT_SENT_CODES.has(cause?.code ?? ''),
  );
}
