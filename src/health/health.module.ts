import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { TwilioModule } from '../twilio/twilio.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { TwilioHealthIndicator } from './twilio.health';

@Module({
  imports: [TerminusModule, TwilioModule, WebhooksModule, LifecycleModule],
  controllers: [HealthController],
  providers: [HealthService, TwilioHealthIndicator],
})
export class HealthModule {}
