/**
 * Rules between the properties of a DTO that the property decorators cannot express, such as
 * "exactly one of message, audio_url and twiml", or a schema's own keywords (a map's
 * additionalProperties). They are added to the DTO's schema in the OpenAPI document
 * (src/swagger.ts), where validators, generators and Swagger UI read them; the service enforces
 * the same rule itself.
 */
export interface SchemaRule {
  oneOf?: { required: string[] }[];
  anyOf?: { required: string[] }[];
  [keyword: string]: unknown;
}

const RULES = new Map<string, SchemaRule>();

export function ApiSchemaRule(rule: SchemaRule): ClassDecorator {
  return (target) => {
    RULES.set(target.name, rule);
  };
}

/** Exactly one of the properties must be present. */
export function ApiExactlyOneOf(...properties: string[]): ClassDecorator {
  return ApiSchemaRule({ oneOf: properties.map((p) => ({ required: [p] })) });
}

/** At least one of the properties must be present. */
export function ApiAtLeastOneOf(...properties: string[]): ClassDecorator {
  return ApiSchemaRule({ anyOf: properties.map((p) => ({ required: [p] })) });
}

/** The rules by schema (class) name. */
export function schemaRules(): ReadonlyMap<string, SchemaRule> {
  return RULES;
}
