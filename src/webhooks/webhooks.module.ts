import { Global, Module } from '@nestjs/common';
import { CallRecordingsService } from './call-recordings.service';
import { InboundService } from './inbound.service';
import { ReconcileService } from './reconcile.service';
import { TwilioSignatureGuard } from './twilio-signature.guard';
import { WebhookInboxService } from './webhook-inbox.service';
import { WebhookMetricsService } from './webhook-metrics.service';
import { WebhooksController } from './webhooks.controller';

/**
 * Twilio's webhooks, the inbox behind them and reconciliation. Global so that Calls/Sms can call
 * WebhookInboxService.applyPending after storing a record and health can read the counters.
 */
@Global()
@Module({
  controllers: [WebhooksController],
  providers: [WebhookMetricsService, TwilioSignatureGuard, WebhookInboxService, InboundService, ReconcileService, CallRecordingsService],
  exports: [WebhookInboxService, WebhookMetricsService, ReconcileService, CallRecordingsService],
})
export class WebhooksModule {}
