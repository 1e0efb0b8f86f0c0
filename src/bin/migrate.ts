import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/app-config';
import { dataSourceOptions } from '../db/data-source-options';
import { EmbeddedPostgres } from '../db/embedded-postgres';
import { writeMigration } from './migration-writer';

/** Every entity of every module, as the app registers them (each module's TypeOrmModule.forFeature). */
const ENTITY_FILES = join(__dirname, '..', '**', '*.entity.{js,ts}');

/**
 * `npm run migration:run`: applies pending migrations to DATABASE_URL, or to the embedded PGlite.
 * `--check`: exits 1 when the entities differ from what the migrations build (a migration is missing).
 * `--generate Name`: writes migrations/<timestamp>-<name>.ts from that difference.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const config = loadConfig();
  const embedded = config.database.url ? null : await EmbeddedPostgres.start(config.database.pgliteDataDir);
  const source = new DataSource(
    dataSourceOptions(config.database.url ? { url: config.database.url } : { embeddedPort: embedded!.port }, [ENTITY_FILES]),
  );
  try {
    await source.initialize();
    if (source.entityMetadatas.length === 0) throw new Error(`no entities found at ${ENTITY_FILES}`);
    const applied = await source.runMigrations({ transaction: 'each' });
    process.stdout.write(applied.length ? `applied: ${applied.map((m) => m.name).join(', ')}\n` : 'no pending migrations\n');
    if (args[0] === '--check' || args[0] === '--generate') {
      const sql = await source.driver.createSchemaBuilder().log();
      if (args[0] === '--check') {
        if (sql.upQueries.length) {
          process.stderr.write(`entities and migrations differ; run npm run migration:generate -- Name\n`);
          sql.upQueries.forEach((q) => process.stderr.write(`  ${q.query}\n`));
          process.exitCode = 1;
        } else {
          process.stdout.write('migrations match the entities\n');
        }
      } else {
        const file = writeMigration(args[1] ?? 'Change', sql.upQueries, sql.downQueries);
        process.stdout.write(file ? `wrote ${file}\n` : 'entities already match the migrations: nothing to write\n');
      }
    }
  } finally {
    if (source.isInitialized) await source.destroy();
    await embedded?.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
