const NULLABLE_FIELDS = Symbol('nullableFields');

/**
 * A body DTO whose `fields` accept `null`, meaning "clear it" (PATCH); every other field refuses
 * null (see inputProblems). The fields themselves must be `@IsOptional()`, which skips null.
 */
export function AcceptsNull(...fields: string[]): ClassDecorator {
  return (target) => Reflect.defineMetadata(NULLABLE_FIELDS, new Set(fields), target);
}

/** The top-level fields of a DTO class that accept null. */
export function nullableFieldsOf(metatype: unknown): ReadonlySet<string> {
  if (typeof metatype !== 'function') return new Set();
  return (Reflect.getOwnMetadata(NULLABLE_FIELDS, metatype) as Set<string> | undefined) ?? new Set();
}
