import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { dataSourceOptions } from './data-source-options';
import { EmbeddedPostgres } from './embedded-postgres';
import { QueryTimingSubscriber } from './query-timing.subscriber';
import { waitForDatabase } from './wait-for-database';

export const EMBEDDED_POSTGRES = Symbol('EMBEDDED_POSTGRES');

class EmbeddedPostgresLifecycle implements OnApplicationShutdown {
  constructor(@Inject(EMBEDDED_POSTGRES) private readonly embedded: EmbeddedPostgres | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.embedded?.stop();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: EMBEDDED_POSTGRES,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => (config.database.url ? null : EmbeddedPostgres.start(config.database.pgliteDataDir)),
    },
    EmbeddedPostgresLifecycle,
  ],
  exports: [EMBEDDED_POSTGRES],
})
class EmbeddedPostgresModule {}

@Module({
  imports: [
    EmbeddedPostgresModule,
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG, EMBEDDED_POSTGRES],
      useFactory: async (config: AppConfig, embedded: EmbeddedPostgres | null) => {
        if (config.database.url) {
          await waitForDatabase(config.database.url, config.database.connectWaitSeconds * 1000, config.database.acquireTimeoutMs);
        }
        return {
          ...dataSourceOptions(config.database.url ? { url: config.database.url } : { embeddedPort: embedded!.port }, [], config.database),
          autoLoadEntities: true,
          migrationsRun: config.database.runMigrations,
          logging: false,
          // waitForDatabase above already waited; TypeORM's own retries would only repeat the failure
          // (ten times, with a stack trace each)
          retryAttempts: 1,
          toRetry: () => false,
        };
      },
    }),
  ],
  providers: [QueryTimingSubscriber],
})
export class DatabaseModule {}
