import 'reflect-metadata';
import { API_PREFIX, createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/app-config';
import { mintToken } from './auth/token';
import { describeBootFailure } from './common/boot-error';
import type { TwilioSandbox } from '@samsaek/twilio-sandbox';
import { IN_PROCESS_SANDBOX } from './twilio/twilio.module';
import { installGracefulShutdown } from './lifecycle/graceful-shutdown';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let app;
  try {
    app = await createApp(config);
    await app.listen(config.port, config.host);
  } catch (error) {
    const line = describeBootFailure(error, { port: config.port, host: config.host, sandboxPort: config.twilio.sandboxPort });
    if (!line) throw error;
    process.stderr.write(`${line}\n`);
    process.exit(1);
  }
  installGracefulShutdown(app, config.shutdownTimeoutMs);
  const sandbox = app.get<TwilioSandbox | null>(IN_PROCESS_SANDBOX);
  const base = `http://localhost:${config.port}`;
  const lines = [
    `Samsaek Phone Service ${config.version} listening on ${base}/${API_PREFIX}`,
    `Twilio: ${sandbox ? `built-in sandbox at ${sandbox.baseUrl} (no Twilio account needed; inspect it at ${sandbox.baseUrl}/sandbox/calls)` : (config.twilio.apiBaseUrl ?? 'api.twilio.com')}`,
    ...(sandbox
      ? [
          `Text ${config.twilio.phoneNumber} from a phone: curl -X POST ${sandbox.baseUrl}/sandbox/inbound/sms -H 'Content-Type: application/json' -d '{"from": "+14155550142", "to": "${config.twilio.phoneNumber}", "body": "STOP"}'`,
        ]
      : []),
    `Database: ${config.database.url ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.database.pgliteDataDir}`}`,
  ];
  if (config.security.swaggerEnabled) lines.push(`API docs: ${base}/api/docs`);
  if (config.env !== 'production') {
    lines.push('Get a token: npm run token -- --sub alice --permissions phone:admin --ttl 1h');
    if (config.jwt.usingDevSecret) {
      const token = mintToken(config, { sub: 'dev', permissions: ['phone:admin'], ttl: '12h' });
      lines.push(`Development token (phone:admin, 12 h): ${token}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main();
