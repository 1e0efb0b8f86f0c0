import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const DEPCRUISE = resolve(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  type: string;
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

/** Runs the repository's dependency rules (the same config `npm run deps:check` uses) on `paths` under `cwd`. */
function cruise(cwd: string, paths: string[]): Violation[] {
  const run = spawnSync(
    process.execPath,
    [DEPCRUISE, '--config', resolve(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json', ...paths],
    { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (!run.stdout) throw new Error(`dependency-cruiser produced no report (exit ${run.status}): ${run.stderr}`);
  const report = JSON.parse(run.stdout) as { summary: { violations: Violation[] } };
  return report.summary.violations;
}

const brief = (v: Violation) => `${v.rule.name}: ${v.from} -> ${v.to}`;

describe('dependency rules (npm run deps:check)', () => {
  describe('on a synthetic tree with one breach of each rule', () => {
    let dir: string;
    let violations: Violation[];

    const files: Record<string, string> = {
      'tsconfig.check.json': JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true },
        include: ['**/*'],
      }),
      // A folder cycle without a file cycle: a -> b -> a through different files.
      'src/alpha/alpha.service.ts': "import { beta } from '../beta/beta.service';\nexport const alpha = () => beta();\n",
      'src/alpha/alpha.util.ts': 'export const tag = "alpha";\n',
      'src/beta/beta.service.ts': "import { tag } from '../alpha/alpha.util';\nexport const beta = () => tag;\n",
      // A file cycle inside one folder.
      'src/common/one.ts': "import { two } from './two';\nexport const one = () => two;\n",
      'src/common/two.ts': "import { one } from './one';\nexport const two = () => one;\n",
      // A module with its entity and repository, used legitimately by its service, the entity list and a test.
      'src/calls/call-record.entity.ts': 'export class CallRecordEntity { sid = ""; }\n',
      'src/calls/call-record.repository.ts':
        "import { CallRecordEntity } from './call-record.entity';\nexport class CallRecordRepository { find() { return new CallRecordEntity(); } }\n",
      'src/calls/calls.service.ts':
        "import { CallRecordRepository } from './call-record.repository';\nexport class CallsService { constructor(readonly calls: CallRecordRepository) {} }\n",
      'src/db/entities.ts':
        "import { CallRecordEntity } from '../calls/call-record.entity';\nexport const entities = [CallRecordEntity];\n",
      'test/calls/calls.e2e-spec.ts':
        "import { CallRecordRepository } from '../../src/calls/call-record.repository';\nexport const repo = CallRecordRepository;\n",
      // Another module reaching into the calls module's repository and entity.
      'src/sms/sms.service.ts':
        "import { CallRecordRepository } from '../calls/call-record.repository';\nimport { CallRecordEntity } from '../calls/call-record.entity';\nexport const uses = [CallRecordRepository, CallRecordEntity];\n",
      // The sandbox package importing the service.
      'src/config/app-config.ts': 'export const SANDBOX_ACCOUNT_SID = "AC00000000000000000000000000000000";\n',
      'packages/twilio-sandbox/src/twilio-sandbox.ts':
        "import { SANDBOX_ACCOUNT_SID } from '../../../src/config/app-config';\nexport const sid = SANDBOX_ACCOUNT_SID;\n",
      'packages/twilio-sandbox/src/sandbox-state.ts': "import { sid } from './twilio-sandbox';\nexport const state = { sid };\n",
      // Production code importing a test helper.
      'src/config/defaults.ts': "import { helper } from '../../test/support/helper';\nexport const defaults = helper;\n",
      'test/support/helper.ts': 'export const helper = 1;\n',
    };

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'deps-rules-'));
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      violations = cruise(dir, ['src', 'test', 'packages']);
    }, 120_000);

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reports a cycle between folders of src/ by folder name, and no other folder cycle', () => {
      const cycles = violations.filter((v) => v.rule.name === 'no-folder-cycle').map((v) => [v.from, v.to].sort().join(' <-> '));
      expect(cycles.length).toBeGreaterThan(0);
      expect(new Set(cycles)).toEqual(new Set(['src/alpha <-> src/beta']));
    });

    it('reports a cycle between files', () => {
      const cycles = violations.filter((v) => v.rule.name === 'no-file-cycle').map((v) => [v.from, v.to].sort().join(' <-> '));
      expect(cycles).toEqual(['src/common/one.ts <-> src/common/two.ts']);
    });

    it('reports the sandbox package importing the service', () => {
      expect(violations.map(brief)).toContain(
        'sandbox-imports-service: packages/twilio-sandbox/src/twilio-sandbox.ts -> src/config/app-config.ts',
      );
    });

    it("reports another module importing a module's repository and entity", () => {
      const found = violations.map(brief);
      expect(found).toContain('repository-outside-module: src/sms/sms.service.ts -> src/calls/call-record.repository.ts');
      expect(found).toContain('entity-outside-module: src/sms/sms.service.ts -> src/calls/call-record.entity.ts');
    });

    it('reports production code importing from test/', () => {
      expect(violations.map(brief)).toContain('service-imports-tests: src/config/defaults.ts -> test/support/helper.ts');
    });

    it('allows the module itself, the entity list in src/db, tests and a package importing its own files', () => {
      const allowed = violations.filter(
        (v) =>
          v.from.startsWith('src/calls/') ||
          v.from.startsWith('src/db/') ||
          v.from.startsWith('test/calls/') ||
          v.from === 'packages/twilio-sandbox/src/sandbox-state.ts',
      );
      expect(allowed.map(brief)).toEqual([]);
    });

    it('reports nothing else', () => {
      const expected = new Set([
        'no-folder-cycle',
        'no-file-cycle',
        'sandbox-imports-service',
        'repository-outside-module',
        'entity-outside-module',
        'service-imports-tests',
      ]);
      expect(violations.filter((v) => !expected.has(v.rule.name)).map(brief)).toEqual([]);
    });
  });

  // Fails until the modules own their entities and repositories and the sandbox is a package of its own:
  // today's tree has folder cycles (common/config/twilio/sandbox), the sandbox imports src/config, and
  // calls, sms, numbers, billing and webhooks import repositories and entities from src/records.
  it('finds no violation in this repository', () => {
    const paths = ['src', 'test', 'bench', 'migrations', 'packages'].filter((p) => existsSync(resolve(ROOT, p)));
    expect(cruise(ROOT, paths).map(brief)).toEqual([]);
  }, 120_000);
});
