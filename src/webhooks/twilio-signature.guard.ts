import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppError } from '../common/app-error';
import { appLogger } from '../common/logger';
import { maskPhoneNumber } from '../common/phone-number';
import { requestIdOf } from '../common/request-id.middleware';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { normalizeParams, param, sidOf } from './twilio-params';
import { WebhookMetricsService } from './webhook-metrics.service';
import { signedWebhookUrl } from './webhook-url';

export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

type WebhookRequest = Request & { rawBody?: Buffer; id?: string };

/**
 * Lets a webhook through only when X-Twilio-Signature verifies against the URL Twilio called and
 * every parameter it sent (or, for a JSON body, the bodySHA256 in that URL). There is no way to
 * turn this off: a request that fails is answered 403 and leaves no trace but a log line.
 */
@Injectable()
export class TwilioSignatureGuard implements CanActivate {
  constructor(
    private readonly twilio: TwilioGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: WebhookMetricsService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<WebhookRequest>();
    const url = signedWebhookUrl(req, {
      webhookBaseUrl: this.config.twilio.webhookBaseUrl,
      trustProxy: this.config.webhooks.trustProxy,
    });
    const problem = this.problem(req, url);
    if (problem === null) return true;

    this.metrics.rejectedSignature(webhookRouteKind(req.path));
    const params = normalizeParams(req.body);
    appLogger().event('warn', 'webhook_signature_rejected', {
      request_id: requestIdOf(req),
      reason: problem,
      path: req.path,
      url,
      sid: sidOf(params),
      from: maskPhoneNumber(param(params, 'From')),
      to: maskPhoneNumber(param(params, 'To')),
    });
    throw new AppError(
      HttpStatus.FORBIDDEN,
      'invalid_signature',
      'The X-Twilio-Signature header is missing or does not match this request',
    );
  }

  private problem(req: WebhookRequest, url: string): string | null {
    const header = req.headers[TWILIO_SIGNATURE_HEADER];
    const signature = Array.isArray(header) ? header[0] : header;
    if (!signature) return 'missing signature';
    let hasBodyHash: boolean;
    try {
      hasBodyHash = new URL(url).searchParams.has('bodySHA256');
    } catch {
      return 'request URL cannot be rebuilt';
    }
    if (hasBodyHash) {
      const raw = req.rawBody ? req.rawBody.toString('utf8') : '';
      return this.twilio.isValidSignatureWithBody(signature, url, raw) ? null : 'signature or body hash does not match';
    }
    if (req.is('application/json')) return 'JSON body without bodySHA256';
    const params = (req.body ?? {}) as Record<string, string | string[]>;
    return this.twilio.isValidSignature(signature, url, params) ? null : 'signature does not match';
  }
}

/** The kind of webhook a route receives, for the rejected-signature counter (its body is untrusted). */
function webhookRouteKind(path: string): string {
  const last = path.replace(/\/+$/, '').split('/').pop() ?? '';
  if (last === 'call') return 'inbound_call';
  if (last === 'sms') return 'inbound_sms';
  if (last === 'status') return 'status';
  if (last === 'gather') return 'gather';
  return 'other';
}
