import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import type { TwilioSandbox } from '@samsaek/twilio-sandbox';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { TwilioGateway } from './twilio.gateway';
import { TwilioSdkGateway } from './twilio-sdk.gateway';
import type { TwilioTarget } from './twilio.types';

/**
 * The in-process sandbox when the service runs without Twilio credentials; null otherwise. The
 * sandbox package is loaded only then, so a live deployment runs without it installed.
 */
export const IN_PROCESS_SANDBOX = Symbol('IN_PROCESS_SANDBOX');

class SandboxLifecycle implements OnApplicationShutdown {
  constructor(@Inject(IN_PROCESS_SANDBOX) private readonly sandbox: TwilioSandbox | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.sandbox?.stop();
  }
}

/** api.twilio.com (or a Twilio edge) is live; any other Twilio-compatible host is a sandbox. */
export function remoteTarget(apiBaseUrl: string | null): TwilioTarget {
  const baseUrl = apiBaseUrl ?? 'https://api.twilio.com';
  const host = new URL(baseUrl).hostname;
  return { mode: host === 'twilio.com' || host.endsWith('.twilio.com') ? 'live' : 'sandbox', baseUrl };
}

@Module({
  imports: [MetricsModule],
  providers: [
    {
      provide: IN_PROCESS_SANDBOX,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        if (config.twilio.mode !== 'sandbox') return null;
        const { TwilioSandbox } = await import('@samsaek/twilio-sandbox');
        return TwilioSandbox.start({
          port: config.twilio.sandboxPort,
          host: '127.0.0.1',
          accountSid: config.twilio.accountSid,
          authToken: config.twilio.authToken,
          speed: config.twilio.sandboxSpeed,
          ownedNumbers: [config.twilio.phoneNumber],
          stateFile: config.twilio.sandboxStateFile ?? undefined,
        });
      },
    },
    {
      provide: TwilioGateway,
      inject: [APP_CONFIG, IN_PROCESS_SANDBOX, MetricsService],
      useFactory: (config: AppConfig, sandbox: TwilioSandbox | null, metrics: MetricsService) =>
        new TwilioSdkGateway({
          observe: (operation, outcome, seconds) => metrics.observeTwilio(operation, outcome, seconds),
          accountSid: config.twilio.accountSid,
          authToken: config.twilio.authToken,
          timeoutMs: config.twilio.requestTimeoutMs,
          target: sandbox ? { mode: 'sandbox', baseUrl: sandbox.baseUrl } : remoteTarget(config.twilio.apiBaseUrl),
        }),
    },
    SandboxLifecycle,
  ],
  exports: [TwilioGateway, IN_PROCESS_SANDBOX],
})
export class TwilioModule {}
