import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';

/** For the TypeORM CLI (migration:generate / migration:show) against DATABASE_URL. */
const config = loadConfig();
if (!config.database.url) throw new Error('The TypeORM CLI needs DATABASE_URL (a real Postgres)');
export default new DataSource(dataSourceOptions({ url: config.database.url }));
