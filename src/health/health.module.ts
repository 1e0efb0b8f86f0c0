import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { TwilioHealthIndicator } from './twilio.health';

@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [HealthService, TwilioHealthIndicator],
})
export class HealthModule {}
