/** Every migration, in order; the app and the CLI both run this list. */
export const MIGRATIONS: Function[] = [];
