import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TwilioSandbox } from '../sandbox/twilio-sandbox';
import { TwilioGateway } from './twilio.gateway';
import { TwilioSdkGateway } from './twilio-sdk.gateway';

/** The in-process sandbox when the service runs without Twilio credentials; null otherwise. */
export const IN_PROCESS_SANDBOX = Symbol('IN_PROCESS_SANDBOX');

class SandboxLifecycle implements OnApplicationShutdown {
  constructor(@Inject(IN_PROCESS_SANDBOX) private readonly sandbox: TwilioSandbox | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.sandbox?.stop();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: IN_PROCESS_SANDBOX,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) =>
        config.twilio.mode === 'sandbox'
          ? TwilioSandbox.start({
              port: config.twilio.sandboxPort,
              host: '127.0.0.1',
              accountSid: config.twilio.accountSid,
              authToken: config.twilio.authToken,
              speed: config.twilio.sandboxSpeed,
              ownedNumbers: [config.twilio.phoneNumber],
            })
          : null,
    },
    {
      provide: TwilioGateway,
      inject: [APP_CONFIG, IN_PROCESS_SANDBOX],
      useFactory: (config: AppConfig, sandbox: TwilioSandbox | null) =>
        new TwilioSdkGateway({
          accountSid: config.twilio.accountSid,
          authToken: config.twilio.authToken,
          timeoutMs: config.twilio.requestTimeoutMs,
          target: sandbox
            ? { mode: 'sandbox', baseUrl: sandbox.baseUrl }
            : { mode: 'live', baseUrl: config.twilio.apiBaseUrl ?? 'https://api.twilio.com' },
        }),
    },
    SandboxLifecycle,
  ],
  exports: [TwilioGateway, IN_PROCESS_SANDBOX],
})
export class TwilioModule {}
