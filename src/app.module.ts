import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule, type Params as LoggerParams } from 'nestjs-pino';
import { AssistantsModule } from './assistants/assistants.module';
import { AuthModule } from './auth/auth.module';
import { BillingModule } from './billing/billing.module';
import { CallsModule } from './calls/calls.module';
import { CampaignsModule } from './campaigns/campaigns.module';
import { AllExceptionsFilter, DEPENDENCY_FAILURE_MAPPER, type DependencyFailureMapper } from './common/all-exceptions.filter';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './db/database.module';
import { EventsModule } from './events/events.module';
import { databaseUnavailableError } from './db/postgres-errors';
import { HealthModule } from './health/health.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { MetricsModule } from './metrics/metrics.module';
import { NumbersModule } from './numbers/numbers.module';
import { RecordingsModule } from './recordings/recordings.module';
import { SmsModule } from './sms/sms.module';
import { ThrottlingModule } from './throttling/throttling.module';
import { TwilioModule } from './twilio/twilio.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logging: LoggerParams): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(logging),
        LifecycleModule,
        MetricsModule,
        ScheduleModule.forRoot(),
        DatabaseModule,
        ThrottlingModule,
        TwilioModule,
        AuthModule,
        AssistantsModule,
        NumbersModule,
        CallsModule,
        RecordingsModule,
        SmsModule,
        WebhooksModule,
        EventsModule,
        CampaignsModule,
        BillingModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        {
          provide: DEPENDENCY_FAILURE_MAPPER,
          useValue: ((error) => databaseUnavailableError(error, config.database.retryAfterSeconds)) satisfies DependencyFailureMapper,
        },
      ],
    };
  }
}
