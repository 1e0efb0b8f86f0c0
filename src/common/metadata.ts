import { applyDecorators } from '@nestjs/common';
import { ApiHideProperty, ApiProperty, ApiQuery } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import { ApiSchemaRule } from './api-schema-rule';
import type { ErrorDetail } from './app-error';

/** Stripe's limits on metadata, but for the number of keys (Stripe allows 50). */
export const METADATA_MAX_KEYS = 20;
export const METADATA_MAX_KEY_LENGTH = 40;
export const METADATA_MAX_VALUE_LENGTH = 500;

/** What the OpenAPI schema can say of the limits (key lengths are in the description: OpenAPI 3.0 has no propertyNames). */
const METADATA_LIMITS_SCHEMA = {
  type: 'object',
  maxProperties: METADATA_MAX_KEYS,
  additionalProperties: { type: 'string', minLength: 1, maxLength: METADATA_MAX_VALUE_LENGTH },
} as const;

/**
 * The client's own labels on a record: string keys to string values, one level deep. A class only
 * so that the OpenAPI document has one named schema, `Metadata`, for every place metadata appears.
 */
@ApiSchemaRule({
  description:
    `Your own labels for the record, e.g. the ids of your conversation or customer: up to ${METADATA_MAX_KEYS} keys of ` +
    `1 to ${METADATA_MAX_KEY_LENGTH} characters (any but \`[\` and \`]\`; not \`__proto__\`, \`constructor\` or \`prototype\`), each with a string value of 1 to ` +
    `${METADATA_MAX_VALUE_LENGTH} characters. No nested objects, arrays, numbers, booleans or nulls; \`{}\` when there are none. ` +
    'Filter the history with `metadata[key]=value`.',
  ...METADATA_LIMITS_SCHEMA,
  example: { conversation_id: 'conv_8f2a1c', customer_id: 'cus_1042' },
})
export class Metadata {
  [key: string]: string;
}

/** How a problem names the key it is about: `metadata.key` in a JSON body, `metadata[key]` in a query string. */
type Where = 'body' | 'query';

const fieldOf = (where: Where, key: string) => (where === 'body' ? `metadata.${key}` : `metadata[${key}]`);

/** Characters, not UTF-16 code units: an emoji counts as one, as JSON Schema's maxLength counts it. */
const lengthOf = (text: string) => [...text].length;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Everything wrong with a metadata object (or filter), each problem naming the key it is about;
 * empty when it is valid. Too many keys is reported alone, not with a problem per key.
 */
export function metadataProblems(value: unknown, where: Where): ErrorDetail[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const message =
      where === 'body'
        ? `metadata must be an object of string values, e.g. {"conversation_id": "conv_8f2a1c"} (got ${describe(value)})`
        : 'metadata must be given as metadata[key]=value, e.g. metadata[conversation_id]=conv_8f2a1c';
    return [{ field: 'metadata', message }];
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > METADATA_MAX_KEYS) {
    return [{ field: 'metadata', message: `metadata may have at most ${METADATA_MAX_KEYS} keys (got ${entries.length})` }];
  }
  const problems: ErrorDetail[] = [];
  for (const [key, item] of entries) {
    const field = fieldOf(where, key);
    if (key === '') {
      problems.push({ field: 'metadata', message: 'metadata keys must not be empty' });
    } else if (lengthOf(key) > METADATA_MAX_KEY_LENGTH) {
      problems.push({ field, message: `metadata key ${key} is longer than ${METADATA_MAX_KEY_LENGTH} characters` });
    } else if (/[[\]]/.test(key)) {
      problems.push({ field, message: `metadata key ${key} must not contain [ or ]` });
    } else if (typeof item !== 'string') {
      const hint = where === 'query' ? 'given once' : 'a string';
      problems.push({ field, message: `${field} must be ${hint} (got ${describe(item)})` });
    } else if (item === '') {
      problems.push({ field, message: `${field} must not be empty; leave the key out instead` });
    } else if (lengthOf(item) > METADATA_MAX_VALUE_LENGTH) {
      problems.push({ field, message: `${field} must be at most ${METADATA_MAX_VALUE_LENGTH} characters long` });
    }
  }
  return problems;
}

/**
 * The field's value exactly as the client sent it: class-transformer would otherwise copy the
 * object into a new one and silently drop keys such as `toString`.
 */
const keepAsSent = Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) => obj[key]);

function isMetadata(where: Where): PropertyDecorator {
  return ValidateBy(
    {
      name: where === 'body' ? 'isMetadata' : 'isMetadataFilter',
      validator: {
        validate: (value) => metadataProblems(value, where).length === 0,
        defaultMessage: (args) => metadataProblems(args?.value, where)[0]?.message ?? 'metadata is invalid',
      },
    },
    // the validation pipe reports each problem under the key it names (see flatten in validation.pipe.ts)
    { context: { details: (value: unknown) => metadataProblems(value, where) } },
  );
}

/** The `Metadata` schema for a property (the swagger plugin alone would inline a plain map instead). */
const metadataSchema = (required: boolean) => ApiProperty({ type: () => Metadata, required });

/** A metadata property of a response. */
export function ApiMetadata(): PropertyDecorator {
  return metadataSchema(true);
}

/** A metadata object in a request body (type it `Metadata`, and make it optional). */
export function IsMetadata(): PropertyDecorator {
  return applyDecorators(metadataSchema(false), keepAsSent, isMetadata('body'));
}

/**
 * A metadata filter in a query string (`metadata[key]=value`, several ANDed), under the same
 * limits. The operation documents it (ApiMetadataFilter): a query DTO cannot say deepObject.
 */
export function IsMetadataFilter(): PropertyDecorator {
  return applyDecorators(ApiHideProperty(), keepAsSent, isMetadata('query'));
}

/** Documents the `metadata[key]=value` filter of a history operation. */
export function ApiMetadataFilter(what: string): MethodDecorator {
  return ApiQuery({
    name: 'metadata',
    required: false,
    style: 'deepObject',
    explode: true,
    // the limits of the Metadata schema without its example, and the default "no filter": without one
    // Swagger UI's "Try it out" prefills the filter with a made-up sample ({"additionalProp1": "string"})
    schema: { ...METADATA_LIMITS_SCHEMA, additionalProperties: { ...METADATA_LIMITS_SCHEMA.additionalProperties }, default: {} },
    description:
      `Only ${what} whose metadata has every key given with that value: \`metadata[conversation_id]=conv_8f2a1c\`, ` +
      `several keys ANDed (at most ${METADATA_MAX_KEYS}).`,
  });
}
