import { ExecutionContext, Module } from '@nestjs/common';
import { ThrottlerModule, ThrottlerStorageService } from '@nestjs/throttler';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { PostgresThrottlerStorage } from './postgres-throttler.storage';
import { rateLimitedActionOf } from './rate-limit.guard';
import { ThrottleCounterEntity } from './throttle-counter.entity';

/**
 * Rate limits. Counters live in PostgreSQL when DATABASE_URL is set, so instances share them;
 * embedded PGlite serves a single process, where counting in memory is just as exact.
 * Imported by auth (failed-token limit) and by the modules whose routes use @RateLimit.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([ThrottleCounterEntity]),
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG, getDataSourceToken()],
      useFactory: (config: AppConfig, dataSource: DataSource) => {
        const { rateLimits } = config;
        const limitOf = (context: ExecutionContext) => (rateLimitedActionOf(context) === 'sms' ? rateLimits.sms : rateLimits.calls);
        return {
          throttlers: [{ limit: limitOf, ttl: rateLimits.windowSeconds * 1000 }],
          storage: config.database.url ? new PostgresThrottlerStorage(dataSource) : new ThrottlerStorageService(),
        };
      },
    }),
  ],
  providers: [AuthFailureLimiter],
  exports: [ThrottlerModule, AuthFailureLimiter],
})
export class ThrottlingModule {}
