import 'reflect-metadata';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import YAML from 'yaml';
import { createApp } from '../app.factory';
import { loadConfig } from '../config/app-config';
import { buildOpenApiDocument, renderOpenApiYaml } from '../swagger';

const USAGE = 'usage: npm run openapi [-- --check] [--out openapi.yaml]';

/**
 * `npm run openapi`: boots the app without listening (in-memory PGlite, in-process sandbox),
 * builds the document from the controllers and DTOs, and writes openapi.yaml.
 * `--check`: writes nothing; validates the document and exits 1 when openapi.yaml differs.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      check: { type: 'boolean', default: false },
      out: { type: 'string', default: resolve(__dirname, '../../..', 'openapi.yaml') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const yaml = await generate();
  const errors = await validate(yaml);
  if (errors) {
    process.stderr.write(`the generated document is not valid OpenAPI: ${errors}\n`);
    process.exitCode = 1;
    return;
  }
  const out = resolve(values.out);
  if (!values.check) {
    writeFileSync(out, yaml);
    process.stdout.write(`wrote ${out}\n`);
    return;
  }
  const committed = existsSync(out) ? readFileSync(out, 'utf8') : '';
  if (committed === yaml) {
    process.stdout.write(`${out} is up to date\n`);
    return;
  }
  const changes = diff(committed ? YAML.parse(committed) : {}, YAML.parse(yaml));
  process.stderr.write(`${out} is out of date; run \`npm run openapi\` and commit the result. Differences (committed -> generated):\n`);
  for (const line of changes.slice(0, 40)) process.stderr.write(`  ${line}\n`);
  if (changes.length > 40) process.stderr.write(`  ... and ${changes.length - 40} more\n`);
  if (changes.length === 0) process.stderr.write('  (formatting only)\n');
  process.exitCode = 1;
}

async function generate(): Promise<string> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PGLITE_DATA_DIR: 'memory://',
    LOG_LEVEL: 'error',
    RECONCILE_ENABLED: 'false',
    SANDBOX_PORT: '0',
  });
  const app = await createApp(config);
  try {
    return renderOpenApiYaml(await buildOpenApiDocument(app));
  } finally {
    await app.close();
  }
}

async function validate(yaml: string): Promise<string | null> {
  try {
    // the validator checks the shape itself
    await SwaggerParser.validate(YAML.parse(yaml) as Parameters<typeof SwaggerParser.validate>[0]);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** JSON-pointer-like paths where the two documents differ. */
function diff(before: unknown, after: unknown, path = ''): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => {
      const at = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!(key in before)) return [`+ ${at}`];
      if (!(key in after)) return [`- ${at}`];
      return diff(before[key], after[key], at);
    });
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    // parameters are named; other lists compare by position
    const key = (item: unknown, i: number) =>
      isObject(item) && typeof item.name === 'string' ? `${typeof item.in === 'string' ? item.in : ''}:${item.name}` : String(i);
    return diff(Object.fromEntries(before.map((v, i) => [key(v, i), v])), Object.fromEntries(after.map((v, i) => [key(v, i), v])), path);
  }
  const show = (v: unknown) => (v === undefined ? 'undefined' : JSON.stringify(v).slice(0, 120));
  return [`~ ${path || '/'}: ${show(before)} -> ${show(after)}`];
}

main()
  .catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    // PGlite and pending sockets may keep the loop alive; the work is done.
    setImmediate(() => process.exit(process.exitCode ?? 0));
  });
