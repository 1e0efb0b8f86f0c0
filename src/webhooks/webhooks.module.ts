import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CallsModule } from '../calls/calls.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SmsModule } from '../sms/sms.module';
import { TwilioModule } from '../twilio/twilio.module';
import { InboundService } from './inbound.service';
import { ReconcileService } from './reconcile.service';
import { TwilioSignatureGuard } from './twilio-signature.guard';
import { WebhookEventEntity } from './webhook-event.entity';
import { WebhookEventRepository } from './webhook-event.repository';
import { WebhookInboxService } from './webhook-inbox.service';
import { WebhookMetricsService } from './webhook-metrics.service';
import { WebhooksController } from './webhooks.controller';

/**
 * Twilio's webhooks: verified, kept in the inbox, dispatched to the services calls and SMS export;
 * and reconciliation, which asks Twilio about what the callbacks left open.
 */
@Module({
  imports: [TypeOrmModule.forFeature([WebhookEventEntity]), TwilioModule, CallsModule, SmsModule, MetricsModule, LifecycleModule],
  controllers: [WebhooksController],
  providers: [WebhookEventRepository, WebhookMetricsService, TwilioSignatureGuard, WebhookInboxService, InboundService, ReconcileService],
  exports: [WebhookMetricsService],
})
export class WebhooksModule {}
