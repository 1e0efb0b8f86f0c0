import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface Query {
  query: string;
  parameters?: unknown[];
}

const ROOT = resolve(__dirname, '../../..');

/** Writes a TypeORM migration class and appends it to migrations/index.ts; null when there is nothing to do. */
export function writeMigration(name: string, up: Query[], down: Query[]): string | null {
  if (!up.length) return null;
  const timestamp = Date.now();
  const className = `${name.replace(/[^A-Za-z0-9]/g, '')}${timestamp}`;
  const fileBase = `${timestamp}-${name
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase()}`;
  const render = (queries: Query[]) =>
    queries
      .map(
        (q) => `    await queryRunner.query(${JSON.stringify(q.query)}${q.parameters?.length ? `, ${JSON.stringify(q.parameters)}` : ''});`,
      )
      .join('\n');
  const source = `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
${render(up)}
  }

  async down(queryRunner: QueryRunner): Promise<void> {
${render([...down].reverse())}
  }
}
`;
  const file = resolve(ROOT, 'migrations', `${fileBase}.ts`);
  writeFileSync(file, source);
  const indexFile = resolve(ROOT, 'migrations', 'index.ts');
  const index = readFileSync(indexFile, 'utf8').replace(
    /(export const MIGRATIONS\b.*?= \[)([\s\S]*?)(\];)/,
    (_m, open: string, body: string, close: string) => {
      const entries = body
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      entries.push(className);
      return `${open}${entries.join(', ')}${close}`;
    },
  );
  writeFileSync(indexFile, `import { ${className} } from './${fileBase}';\n${index}`);
  return file;
}
