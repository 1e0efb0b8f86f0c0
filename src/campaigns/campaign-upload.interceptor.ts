import { CallHandler, ExecutionContext, HttpStatus, Injectable, NestInterceptor, type Type } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Request } from 'express';
import { Observable, of } from 'rxjs';
import { AppError } from '../common/app-error';

/** The CSV upload's size limit, the JSON body's (32 MiB). */
const MAX_UPLOAD_BYTES = 32 * 2 ** 20;
/** Fields given as text in a form or query string that carry JSON. */
const JSON_FIELDS = new Set(['from', 'calling_window', 'pacing', 'retry', 'recipients']);
const MultipartRecipients: Type<NestInterceptor> = FileInterceptor('recipients', {
  limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 40 },
});

type UploadRequest = Request & { file?: { buffer: Buffer } };

/**
 * Lets `POST /campaigns` take its recipients as a CSV file besides JSON: `multipart/form-data`
 * with the file in `recipients` and the other fields either as one JSON field `campaign` or as form
 * fields, or a `text/csv` body with the other fields in the query string. Either way the body
 * becomes the JSON shape (`recipients_csv` holding the file), validated as JSON is.
 */
@Injectable()
export class CampaignUploadInterceptor implements NestInterceptor {
  private readonly multipart = new MultipartRecipients();

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const req = context.switchToHttp().getRequest<UploadRequest>();
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type === '' || type === 'application/json') return next.handle();
    if (type === 'multipart/form-data') {
      await (await this.multipart.intercept(context, { handle: () => of(null) })).toPromise();
      const fields = (req.body ?? {}) as Record<string, unknown>;
      const body = fromFields(fields, 'form field');
      if (req.file) body.recipients_csv = req.file.buffer.toString('utf8');
      req.body = body;
      return next.handle();
    }
    if (type === 'text/csv') {
      const { dry_run, ...fields } = req.query as Record<string, unknown>;
      const body = fromFields(fields, 'query parameter');
      body.recipients_csv = await readText(req);
      req.body = body;
      Object.defineProperty(req, 'query', { value: dry_run === undefined ? {} : { dry_run }, configurable: true, writable: true });
      return next.handle();
    }
    throw new AppError(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'unsupported_media_type',
      `A campaign is sent as application/json, multipart/form-data (the CSV file in recipients) or text/csv (got ${type})`,
    );
  }
}

/** The campaign's fields from text: `campaign` as one JSON object, or each field (objects as JSON). */
function fromFields(fields: Record<string, unknown>, where: string): Record<string, unknown> {
  const { campaign, ...rest } = fields;
  const body: Record<string, unknown> = campaign === undefined ? {} : parseJson('campaign', campaign, where);
  if (campaign !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body)))
    throw AppError.invalidField('campaign', `the ${where} campaign must be a JSON object of the campaign's fields`);
  for (const [key, value] of Object.entries(rest)) body[key] = JSON_FIELDS.has(key) ? parseJson(key, value, where) : value;
  return body;
}

function parseJson(field: string, value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'string') throw AppError.invalidField(field, `the ${where} ${field} must be given once, as JSON text`);
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch {
    throw AppError.invalidField(field, `the ${where} ${field} is not valid JSON`);
  }
}

function readText(req: Request): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_UPLOAD_BYTES) {
        req.destroy();
        reject(new AppError(HttpStatus.PAYLOAD_TOO_LARGE, 'payload_too_large', `The CSV is larger than ${MAX_UPLOAD_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
