import { Test } from '@nestjs/testing';
import { loadConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { TwilioGateway } from './twilio.gateway';
import { IN_PROCESS_SANDBOX, TwilioModule, remoteTarget } from './twilio.module';

// The production image does not contain the sandbox package: loading it fails here as it would there.
const sandboxPackage = vi.hoisted(() => ({ loads: 0 }));
vi.mock('@samsaek/twilio-sandbox', () => {
  sandboxPackage.loads++;
  throw new Error("Cannot find module '@samsaek/twilio-sandbox'");
});

describe('remoteTarget', () => {
  it('calls api.twilio.com and its edges live, any other compatible host a sandbox', () => {
    expect(remoteTarget(null)).toEqual({ mode: 'live', baseUrl: 'https://api.twilio.com' });
    expect(remoteTarget('https://api.dublin.ie1.twilio.com').mode).toBe('live');
    expect(remoteTarget('http://127.0.0.1:8010')).toEqual({ mode: 'sandbox', baseUrl: 'http://127.0.0.1:8010' });
    expect(remoteTarget('https://twilio.com.evil.example').mode).toBe('sandbox');
  });
});

describe('TwilioModule without the sandbox package', () => {
  const boot = (env: Record<string, string>) =>
    Test.createTestingModule({ imports: [ConfigModule.forRoot(loadConfig(env)), TwilioModule] }).compile();

  it('boots against Twilio without loading the sandbox package', async () => {
    const moduleRef = await boot({ TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'live-token' });
    try {
      expect(moduleRef.get(IN_PROCESS_SANDBOX)).toBeNull();
      expect(moduleRef.get(TwilioGateway)).toBeInstanceOf(TwilioGateway);
      expect(sandboxPackage.loads).toBe(0);
    } finally {
      await moduleRef.close();
    }
  });

  it('needs the package only in sandbox mode', async () => {
    await expect(boot({})).rejects.toThrow();
    expect(sandboxPackage.loads).toBe(1);
  });
});
