import fc from 'fast-check';
import { OpenApiDocument, Operation, Parameter, Schema, deref, fieldText } from './spec';

/**
 * fast-check arbitraries derived from the operation's schemas in openapi.yaml: `valid` stays inside
 * the documented constraints (types, enums, patterns, ranges, lengths, examples), `invalid` breaks
 * exactly one of them (or the encoding). Nothing here knows a particular endpoint.
 */

const E164_LIKE = /^\+[1-9]\d{7,14}$/;

/** Phone numbers that are valid and end neither in 5555 (stays in progress for hours) nor in magic test digits. */
const phoneNumber = fc
  .integer({ min: 100, max: 9999 })
  .filter((n) => n !== 5555)
  .map((n) => `+1415555${String(n).padStart(4, '0')}`);

function stringArbitrary(s: Schema): fc.Arbitrary<string> {
  const maxLength = Math.min(s.maxLength ?? 40, 40);
  const minLength = s.minLength ?? 0;
  const options: fc.Arbitrary<string>[] = [];
  if (typeof s.example === 'string') options.push(fc.constant(s.example));
  if (s.default !== undefined) options.push(fc.constant(fieldText(s.default)));
  if (s.pattern) {
    const re = new RegExp(s.pattern);
    options.push(
      fc.stringMatching(re).filter((v) => v.length >= minLength && (s.maxLength === undefined || v.length <= s.maxLength) && re.test(v)),
    );
  } else if (s.format === 'date-time') {
    options.push(
      fc
        .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString()),
    );
  } else if (s.format === 'uri' || s.format === 'url' || (typeof s.example === 'string' && /^https?:\/\//.test(s.example))) {
    options.push(fc.webUrl({ validSchemes: ['https'] }).filter((u) => u.length <= (s.maxLength ?? 2000)));
  } else if (typeof s.example === 'string' && E164_LIKE.test(s.example)) {
    options.push(phoneNumber);
  } else {
    options.push(fc.string({ minLength: Math.max(minLength, 1), maxLength: Math.max(maxLength, minLength, 1), unit: 'grapheme' }));
  }
  return fc.oneof(...options);
}

export function validArbitrary(doc: OpenApiDocument, schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const s = deref(doc, schema);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  let arb: fc.Arbitrary<unknown>;
  switch (type) {
    case 'string':
      arb = stringArbitrary(s);
      break;
    case 'integer':
      arb = fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 100_000 });
      break;
    case 'number':
      arb = fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 100_000, noNaN: true, noDefaultInfinity: true });
      break;
    case 'boolean':
      arb = fc.boolean();
      break;
    case 'array':
      arb = depth > 3 ? fc.constant([]) : fc.array(validArbitrary(doc, s.items, depth + 1), { maxLength: 3 });
      break;
    default: {
      const props = s.properties ?? {};
      if (depth > 3 || Object.keys(props).length === 0) {
        arb = fc.constant({});
        break;
      }
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, prop] of Object.entries(props)) record[name] = validArbitrary(doc, prop, depth + 1);
      arb = fc.record(record, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
    }
  }
  return arb;
}

/** A value of another JSON type than the schema wants. */
function wrongType(s: Schema): fc.Arbitrary<unknown> {
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  const all: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.string({ maxLength: 10 }),
    integer: fc.integer(),
    number: fc.double({ noNaN: true }),
    boolean: fc.boolean(),
    array: fc.array(fc.integer(), { maxLength: 2 }),
    object: fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
    null: fc.constant(null),
  };
  const others = Object.entries(all)
    .filter(([k]) => k !== type && !(type === 'number' && k === 'integer') && !(k === 'null' && s.nullable))
    .map(([, v]) => v);
  return fc.oneof(...others);
}

/** Text PostgreSQL cannot store (NUL, unpaired surrogates) or XML cannot hold (control characters). */
export const hostileString: fc.Arbitrary<string> = fc
  .tuple(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('\u0000', '\ud800', '\udfff', '\u0001', '\u001b', '\u000b', '\ufffe'),
    fc.string({ maxLength: 8 }),
  )
  .map(([a, bad, b]) => `${a}${bad}${b}`);

/** Dates in ISO 8601 forms that are not one unambiguous instant, or not a real date. */
export const oddDate: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '20250101T000000Z',
    '2025-W01-1',
    '2025-001',
    '20250101',
    '2025-01-01T00:00:00',
    '2025-02-30',
    '2025-01-01T24:00:00Z',
    '2025-01-01T00:00:00+0200',
  ),
  fc
    .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')),
  fc.integer({ min: 1, max: 53 }).map((w) => `2025-W${String(w).padStart(2, '0')}`),
);

const UUID_LIKE = '6f1c2a7e-1d2b-4c55-9f1e-3a2b1c0d9e8f';
const asCursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** Cursors this API could not have written: bad base64, JSON, ids that are not UUIDs, dates out of range. */
export const malformedCursor: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '!!!',
    '%%%',
    asCursor('{"id":1}'),
    asCursor(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`),
    asCursor(`-271821-04-20T00:00:00.000Z|${UUID_LIKE}`),
  ),
  fc.string({ maxLength: 36 }).map((id) => asCursor(`2026-01-01T00:00:00.000Z|${id}`)),
  fc
    .integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 })
    .map((ms) => asCursor(`${new Date(ms).toISOString()}|${UUID_LIKE}`)),
  fc.string({ maxLength: 40 }).map(asCursor),
);

/** JSON nested deeper than any request needs (the service refuses more than 32 levels); shallow enough to fit in a URL. */
export const deepJson: fc.Arbitrary<unknown> = fc.tuple(fc.integer({ min: 33, max: 400 }), fc.boolean()).map(([depth, arrays]) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
  return value;
});

/** A value of the right type that breaks one documented constraint, when the schema has one. */
function outOfBounds(s: Schema): fc.Arbitrary<unknown> | null {
  const options: fc.Arbitrary<unknown>[] = [];
  if (s.type === 'string' && !s.enum?.length) options.push(hostileString);
  if (typeof s.example === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(s.example)) options.push(oddDate);
  if (s.maxLength !== undefined) options.push(fc.constant('x'.repeat(s.maxLength + 1)));
  if (s.minLength !== undefined && s.minLength > 0) options.push(fc.constant('x'.repeat(s.minLength - 1)));
  if (s.maximum !== undefined) options.push(fc.constant(s.maximum + 1));
  if (s.minimum !== undefined) options.push(fc.constant(s.minimum - 1));
  if (s.type === 'integer') options.push(fc.constant(1.5));
  if (s.enum?.length) options.push(fc.constant('not-one-of-the-enum'));
  if (s.pattern) {
    const re = new RegExp(s.pattern);
    options.push(fc.string({ maxLength: 12 }).filter((v) => !re.test(v)));
  }
  if (typeof s.example === 'string' && E164_LIKE.test(s.example)) {
    options.push(fc.constantFrom('+1987654321', '+1234567890', '14155550100', '+1415555', 'not a number', '+1 415 555 0100'));
  }
  return options.length ? fc.oneof(...options) : null;
}

/** A body or parameter set that breaks exactly one thing. */
export function invalidObjectArbitrary(doc: OpenApiDocument, schema: Schema | undefined): fc.Arbitrary<unknown> {
  const s = deref(doc, schema);
  const props = s.properties ?? {};
  const required = (s.required ?? []).filter((k) => k in props);
  const base = validArbitrary(doc, s) as fc.Arbitrary<Record<string, unknown>>;
  const mutations: fc.Arbitrary<unknown>[] = [
    base.map((v) => ({ ...v, unexpected_field: 'x' })),
    fc.constantFrom<unknown>(null, [], 'a string', 42, true, [{}]),
    deepJson,
  ];
  if (required.length) {
    mutations.push(
      fc.tuple(base, fc.constantFrom(...required)).map(([v, k]) => {
        const copy = { ...v };
        delete copy[k];
        return copy;
      }),
    );
  }
  const names = Object.keys(props);
  if (names.length) {
    mutations.push(
      fc.constantFrom(...names).chain((name) => {
        const prop = deref(doc, props[name]);
        const broken = [wrongType(prop), deepJson.map((deep) => ({ nested: deep }))];
        if (name === 'cursor') broken.push(malformedCursor);
        const bounds = outOfBounds(prop);
        if (bounds) broken.push(bounds);
        return fc.tuple(base, fc.oneof(...broken)).map(([v, bad]) => ({ ...v, [name]: bad }));
      }),
    );
  }
  return fc.oneof(...mutations);
}

/** Query or path values as they travel in a URL: strings. */
function asUrlValue(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function parameterArbitraries(
  doc: OpenApiDocument,
  params: Parameter[],
  where: 'path' | 'query',
  mode: 'valid' | 'invalid',
): fc.Arbitrary<Record<string, unknown>> {
  const selected = params.filter((p) => p.in === where);
  if (!selected.length) return fc.constant({});
  const asObject: Schema = {
    type: 'object',
    properties: Object.fromEntries(
      selected.map((p) => [p.name, { ...deref(doc, p.schema), ...(p.example !== undefined ? { example: p.example } : {}) }]),
    ),
    required: selected.filter((p) => p.required === true || p.in === 'path').map((p) => p.name),
  };
  const arb = mode === 'valid' ? validArbitrary(doc, asObject) : invalidObjectArbitrary(doc, asObject);
  return arb.map((value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      // a whole query that is not an object: send it as one odd parameter instead
      return { [selected[0].name]: asUrlValue(value) };
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asUrlValue(v)]));
  });
}

/** Path values with no documented constraint still have to be a non-empty URL segment. */
export function pathFallback(params: Record<string, unknown>, op: Operation): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of op.parameters.filter((x) => x.in === 'path')) {
    const v = params[p.name];
    out[p.name] = v === undefined || v === null || v === '' ? 'x' : Array.isArray(v) ? String(v[0] ?? 'x') || 'x' : fieldText(v);
  }
  return out;
}
