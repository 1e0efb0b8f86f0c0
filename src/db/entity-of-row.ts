import type { ObjectLiteral, Repository } from 'typeorm';

/**
 * The entity a row of `repo`'s table describes (e.g. from `RETURNING *` of hand-written SQL),
 * hydrated as TypeORM hydrates what it reads: each column to its property, through the driver's
 * conversions. Columns the row lacks stay unset.
 */
export function entityOfRow<T extends ObjectLiteral>(repo: Repository<T>, row: Record<string, unknown>): T {
  const metadata = repo.metadata;
  const driver = repo.manager.connection.driver;
  const entity = metadata.create() as T;
  for (const column of metadata.columns) {
    if (column.databaseName in row) column.setEntityValue(entity, driver.prepareHydratedValue(row[column.databaseName], column));
  }
  return entity;
}
