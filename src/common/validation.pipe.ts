import { ArgumentMetadata, HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError, ErrorDetail } from './app-error';
import { nullableFieldsOf } from './nullable';
import { hasUnstorableChar } from './storable-text';

/** A validator that names the parts of a value it refused (metadata keys) gives them in its context. */
interface DetailingContext {
  details: (value: unknown) => ErrorDetail[];
}

function isDetailing(context: unknown): context is DetailingContext {
  return typeof (context as DetailingContext | undefined)?.details === 'function';
}

function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).flatMap(([name, message]) => {
      const context: unknown = error.contexts?.[name];
      const details = isDetailing(context) ? context.details(error.value) : [];
      return details.length ? details : [{ field, message }];
    });
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Keys Nest's validation pipe deletes before any validator sees them (prototype pollution guards). */
const STRIPPED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * What no DTO field accepts, whatever its own rules: characters the database cannot store, anywhere
 * in a body, query or path; null in a body (an absent field is left out, not sent as null); and keys
 * the pipe would silently drop. Nested fields are named `a.b` in a body, `a[b]` in a query string.
 */
export function inputProblems(value: unknown, where: ArgumentMetadata['type'], nullable: ReadonlySet<string> = new Set()): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const nested = (field: string, key: string) => (!field ? key : where === 'query' ? `${field}[${key}]` : `${field}.${key}`);
  const stack: { value: unknown; field: string }[] = [{ value, field: '' }];
  while (stack.length) {
    const { value: current, field } = stack.pop()!;
    if (typeof current === 'string') {
      if (hasUnstorableChar(current)) {
        const name = field || where;
        problems.push({ field: name, message: `${name} must not contain NUL characters or unpaired surrogates` });
      }
    } else if (current === null) {
      if (where === 'body' && field && !nullable.has(field))
        problems.push({ field, message: `${field} must not be null; leave the field out instead` });
    } else if (Array.isArray(current)) {
      for (const item of current) stack.push({ value: item, field });
    } else if (typeof current === 'object') {
      for (const [key, item] of Object.entries(current as Record<string, unknown>)) {
        if (hasUnstorableChar(key))
          problems.push({ field: field || where, message: `${field || where} has a key with NUL characters or unpaired surrogates` });
        else if (STRIPPED_KEYS.has(key)) problems.push({ field: nested(field, key), message: `${key} is not accepted as a key` });
        else stack.push({ value: item, field: nested(field, key) });
      }
    }
  }
  return problems.reverse();
}

/**
 * A request refused by validation before its handler ran. Nothing was done, so whatever keeps
 * answers for replay (idempotency keys) must not keep this one: the corrected request runs.
 */
export class RequestValidationError extends AppError {}

function validationFailed(details: ErrorDetail[]): AppError {
  const phoneOnly = details.length > 0 && details.every((d) => d.message.includes('E.164'));
  return new RequestValidationError(
    HttpStatus.BAD_REQUEST,
    phoneOnly ? 'invalid_phone_number' : 'validation_failed',
    details.map((d) => d.message).join('; '),
    details,
  );
}

/** Whitelisting validation whose failures name every bad field in the documented error shape. */
class AppValidationPipe extends ValidationPipe {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom' && this.toValidate(metadata)) {
      const problems = inputProblems(value, metadata.type, nullableFieldsOf(metadata.metatype));
      if (problems.length) throw validationFailed(problems);
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => validationFailed(flatten(errors)),
  });
}
