import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyCleanupService } from './idempotency-cleanup.service';
import { IdempotencyKeyEntity } from './idempotency-key.entity';
import { IdempotencyKeyRepository } from './idempotency-key.repository';
import { IdempotencyService } from './idempotency.service';

/**
 * Idempotency keys for the routes marked @Idempotent; owns idempotency_keys. Modules with such
 * routes import it so that their IdempotencyInterceptor finds IdempotencyService.
 */
@Module({
  imports: [TypeOrmModule.forFeature([IdempotencyKeyEntity])],
  providers: [IdempotencyKeyRepository, IdempotencyService, IdempotencyCleanupService],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
