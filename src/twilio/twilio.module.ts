import { Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { appLogger } from '../common/logger';
import { twilioCallbackUrl } from '../common/twilio-callback-url';
import type { AppConfig } from '../config/app-config';
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

class SandboxLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(IN_PROCESS_SANDBOX) private readonly sandbox: TwilioSandbox | null,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly gateway: TwilioGateway,
  ) {}

  /**
   * A sandbox starts with its default number unwired (no Voice, SMS or status URL), so inbound
   * traffic would never reach us: wire it to our webhooks through the same API an operator uses
   * on Twilio. The in-process sandbox is always ours; a standalone one only while unwired. Never
   * done against real Twilio.
   */
  async onApplicationBootstrap(): Promise<void> {
    const target = this.config.twilio;
    if (!this.sandbox && remoteTarget(target.apiBaseUrl).mode !== 'sandbox') return;
    try {
      for (const number of await this.gateway.listOwnedNumbers()) {
        if (number.phoneNumber !== target.phoneNumber || (!this.sandbox && number.voiceUrl && number.smsUrl)) continue;
        await this.gateway.updateNumberWebhooks(number.sid, {
          voiceUrl: twilioCallbackUrl(target, '/call'),
          smsUrl: twilioCallbackUrl(target, '/sms'),
          statusCallbackUrl: twilioCallbackUrl(target, '/status'),
        });
      }
    } catch (error) {
      if (this.sandbox) throw error;
      // a standalone sandbox that is not up yet must not stop the service from starting
      appLogger().event('warn', 'sandbox_number_not_wired', {
        phone_number: target.phoneNumber,
        sandbox: target.apiBaseUrl,
        reason: (error as Error).message,
      });
    }
  }

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
          balance: config.twilio.sandboxBalance,
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
