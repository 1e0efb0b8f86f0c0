import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');

/**
 * Vitest compiles with SWC, which does not run the @nestjs/swagger CLI plugin, so the DTOs would
 * have empty schemas. Generate `src/metadata.ts` (gitignored) with the plugin's own visitor and the
 * options from nest-cli.json, so tests see the same document as the `nest build` output.
 */
export async function generatePluginMetadata(): Promise<void> {
  const nestCli = JSON.parse(readFileSync(join(ROOT, 'nest-cli.json'), 'utf8')) as {
    compilerOptions: { plugins: { name: string; options?: Record<string, unknown> }[] };
  };
  const swaggerPlugin = nestCli.compilerOptions.plugins.find((p) => p.name === '@nestjs/swagger');
  // `as string`: only the narrow shapes below are relied on, not the packages' own typings
  /* eslint-disable @typescript-eslint/no-unnecessary-type-assertion */
  const { PluginMetadataGenerator } = (await import('@nestjs/cli/lib/compiler/plugins/plugin-metadata-generator.js' as string)) as {
    PluginMetadataGenerator: new () => { generate(options: Record<string, unknown>): void };
  };
  const { ReadonlyVisitor } = (await import('@nestjs/swagger/plugin' as string)) as {
    ReadonlyVisitor: new (options: Record<string, unknown>) => unknown;
  };
  /* eslint-enable @typescript-eslint/no-unnecessary-type-assertion */
  // A plain program without the type check: files other engineers are still writing may not
  // compile yet, and the visitor only needs the syntax and types of the DTOs and controllers.
  const ts = (await import('typescript')).default;
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: () => undefined,
  });
  if (!parsed) throw new Error('cannot read tsconfig.json');
  const program = ts.createProgram({
    rootNames: parsed.fileNames.filter((f) => !f.endsWith('/src/metadata.ts')),
    options: { ...parsed.options, noEmit: true },
  });
  // Generate outside src/ (import paths are relative to pathToSource), then write under a name no
  // compiler picks up and rename: other test runs or builds may be reading src/ right now.
  const outDir = mkdtempSync(join(tmpdir(), 'swagger-metadata-'));
  try {
    new PluginMetadataGenerator().generate({
      visitors: [new ReadonlyVisitor({ ...(swaggerPlugin?.options ?? {}), pathToSource: SRC })],
      outputDir: outDir,
      filename: 'metadata.ts',
      tsProgramRef: program,
    });
    const generated = join(outDir, 'metadata.ts');
    if (!existsSync(generated)) throw new Error('swagger plugin metadata was not generated');
    // @ts-nocheck: `nest build` compiles src/ and so this gitignored file; a stale copy naming a DTO
    // that was since renamed must not break the build (the build itself never loads it).
    const fresh = `// @ts-nocheck\n${readFileSync(generated, 'utf8')}`;
    const target = join(SRC, 'metadata.ts');
    if (existsSync(target) && readFileSync(target, 'utf8') === fresh) return;
    const staging = `${target}.tmp-${process.pid}`;
    writeFileSync(staging, fresh);
    renameSync(staging, target);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

export default async function setup(): Promise<void> {
  await generatePluginMetadata();
}
