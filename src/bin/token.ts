import { parseArgs } from 'node:util';
import { ALL_PERMISSIONS } from '../auth/permission';
import { mintToken } from '../auth/token';
import { ConfigError, loadConfig } from '../config/app-config';

const USAGE = 'usage: npm run token -- --sub alice --permissions phone:view,phone:call --ttl 1h';

function main(): void {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string', default: 'dev' },
      permissions: { type: 'string', default: 'phone:admin' },
      ttl: { type: 'string', default: '1h' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\npermissions: ${ALL_PERMISSIONS.join(', ')}\n`);
    return;
  }
  const permissions = values.permissions
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const unknown = permissions.filter((p) => !(ALL_PERMISSIONS as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`unknown permission(s): ${unknown.join(', ')}; known: ${ALL_PERMISSIONS.join(', ')}`);
  if (!/^\d+[smhd]?$/.test(values.ttl)) throw new Error(`--ttl must look like 900, 15m, 1h or 7d (got "${values.ttl}")`);
  const ttl = /^\d+$/.test(values.ttl) ? Number(values.ttl) : values.ttl;
  process.stdout.write(`${mintToken(loadConfig(), { sub: values.sub, permissions, ttl: String(ttl) })}\n`);
}

try {
  main();
} catch (error) {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(1);
}
