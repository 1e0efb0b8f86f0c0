import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CallsModule } from '../calls/calls.module';
import { ConversationsModule } from '../conversations/conversations.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { MetricsModule } from '../metrics/metrics.module';
import { NumbersModule } from '../numbers/numbers.module';
import { SmsModule } from '../sms/sms.module';
import { TwilioModule } from '../twilio/twilio.module';
import { InboundService } from './inbound.service';
import { ReconcileSweepService } from './reconcile-sweep.service';
import { ReconcileWatermarkEntity } from './reconcile-watermark.entity';
import { ReconcileWatermarkRepository } from './reconcile-watermark.repository';
import { ReconcileService } from './reconcile.service';
import { SetAsideMetrics } from './set-aside-metrics';
import { SetAsideService } from './set-aside.service';
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
  imports: [
    TypeOrmModule.forFeature([WebhookEventEntity, ReconcileWatermarkEntity]),
    TwilioModule,
    CallsModule,
    SmsModule,
    NumbersModule,
    ConversationsModule,
    MetricsModule,
    LifecycleModule,
  ],
  controllers: [WebhooksController],
  providers: [
    WebhookEventRepository,
    WebhookMetricsService,
    TwilioSignatureGuard,
    WebhookInboxService,
    InboundService,
    ReconcileWatermarkRepository,
    ReconcileSweepService,
    ReconcileService,
    SetAsideService,
    SetAsideMetrics,
  ],
  exports: [WebhookMetricsService, SetAsideService],
})
export class WebhooksModule {}
