/**
 * OpenAPI 3.0 schemas as fast-check arbitraries (values the schema accepts, and values it refuses)
 * and as Ajv validators. The contract walker (openapi-contract.ts) builds its requests with these.
 * Every generated value is checked with Ajv against the same schema, so an approximation here
 * (a pattern with lengths, an `anyOf`) can only make a run skip a value, never send a wrong one.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';

/** An OpenAPI 3.0 Schema Object (the subset JSON Schema generators such as zod's emit). */
export type Schema = {
  $ref?: string;
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  [keyword: string]: unknown;
};

/** Values known to exist (ids of things made before the walk), by property or parameter name. */
export type KnownValues = Record<string, readonly unknown[]>;

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** OpenAPI 3.0 → JSON Schema draft 7 for Ajv: `nullable`, boolean `exclusiveMinimum`/`Maximum`, local `$ref`s inlined. */
export function toJsonSchema(schema: Schema, resolve: (ref: string) => Schema): Schema {
  if (schema.$ref !== undefined) return toJsonSchema(resolve(schema.$ref), resolve);
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable' || key === 'example' || key === 'discriminator' || key === 'xml' || key === 'externalDocs') continue;
    if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, toJsonSchema(v, resolve)]));
    else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object') || key === 'not') out[key] = toJsonSchema(value as Schema, resolve);
    else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') out[key] = (value as Schema[]).map((s) => toJsonSchema(s, resolve));
    else out[key] = value;
  }
  if (schema.exclusiveMinimum === true) {
    out.exclusiveMinimum = schema.minimum;
    delete out.minimum;
  } else if (schema.exclusiveMinimum === false) delete out.exclusiveMinimum;
  if (schema.exclusiveMaximum === true) {
    out.exclusiveMaximum = schema.maximum;
    delete out.maximum;
  } else if (schema.exclusiveMaximum === false) delete out.exclusiveMaximum;
  if (schema.nullable === true) {
    if (out.enum !== undefined && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

/**
 * Ajv validators of a document's schemas (OpenAPI 3.0), with `date-time`, `uri`, … formats checked;
 * `coerceTypes` for parameters, which arrive as text (`"12"` is an integer).
 */
export function schemaValidators(resolve: (ref: string) => Schema, options: { coerceTypes?: boolean } = {}): (schema: Schema) => ValidateFunction {
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true, unicodeRegExp: true, coerceTypes: options.coerceTypes ?? false }));
  const cache = new Map<Schema, ValidateFunction>();
  return (schema) => {
    let validate = cache.get(schema);
    if (validate === undefined) {
      validate = ajv.compile(toJsonSchema(schema, resolve));
      cache.set(schema, validate);
    }
    return validate;
  };
}

/** Strings are generated at most this much longer than their minimum, so that requests stay small. */
const SPAN = 40;

function lengthsOf(schema: Schema): { minLength: number; maxLength: number } {
  const minLength = schema.minLength ?? 0;
  return { minLength, maxLength: Math.min(schema.maxLength ?? minLength + SPAN, minLength + SPAN) };
}

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const lengths = lengthsOf(schema);
  const codePoints = (s: string) => [...s].length;
  if (schema.format === 'date-time') {
    const date = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });
    const offset = fc.constantFrom('Z', '+00:00', '+05:30', '-08:00');
    // RFC 3339 as clients write it: with and without fractions, in UTC and with an offset.
    return fc.tuple(date, offset, fc.boolean()).map(([d, zone, fraction]) => {
      const minutes = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)));
      const local = new Date(d.getTime() + minutes * 60_000).toISOString().slice(0, fraction ? 23 : 19);
      return `${local}${zone}`;
    });
  }
  if (schema.pattern !== undefined) {
    const pattern = new RegExp(schema.pattern, 'u');
    // Lengths not spelled in the pattern: draw by the pattern, keep those of the right length.
    return fc.stringMatching(pattern).filter((s) => codePoints(s) >= lengths.minLength && codePoints(s) <= (schema.maxLength ?? Infinity));
  }
  // ASCII most of the time (readable counterexamples), any code point some of the time, and the longest
  // string allowed (a bound is where a server and its document disagree most often).
  const ways = [
    { weight: 3, arbitrary: fc.string({ ...lengths, unit: 'grapheme-ascii' }) },
    { weight: 1, arbitrary: fc.string({ ...lengths, unit: 'binary' }) },
  ];
  if (schema.maxLength !== undefined && schema.maxLength <= 10_000 && schema.maxLength > lengths.maxLength) {
    const longest = { minLength: schema.maxLength, maxLength: schema.maxLength };
    ways.push({ weight: 1, arbitrary: fc.oneof(fc.string({ ...longest, unit: 'grapheme-ascii' }), fc.string({ ...longest, unit: 'binary' })) });
  }
  return fc.oneof(...ways);
}

function numberArbitrary(schema: Schema): fc.Arbitrary<number> {
  const min = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : schema.minimum;
  const max = typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : schema.maximum;
  if (schema.type === 'integer') {
    const lo = Math.max(min ?? -1_000_000, Number.MIN_SAFE_INTEGER);
    const hi = Math.min(max ?? 1_000_000, Number.MAX_SAFE_INTEGER);
    return fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) });
  }
  return fc.double({ min: min ?? -1e9, max: max ?? 1e9, noNaN: true, noDefaultInfinity: true });
}

/** Values `schema` accepts; for a property or parameter named in `known`, often one of those values. */
export function validArbitrary(schema: Schema, resolve: (ref: string) => Schema, known: KnownValues = {}, name?: string): fc.Arbitrary<unknown> {
  const own = (() => {
    if (schema.$ref !== undefined) return validArbitrary(resolve(schema.$ref), resolve, known, name);
    if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
    const branches = schema.anyOf ?? schema.oneOf;
    if (branches !== undefined) return fc.oneof(...branches.map((branch) => validArbitrary(branch, resolve, known, name)));
    if (schema.allOf !== undefined) return validArbitrary(Object.assign({}, ...schema.allOf), resolve, known, name);
    switch (schema.type) {
      case 'string':
        return stringArbitrary(schema);
      case 'number':
      case 'integer':
        return numberArbitrary(schema);
      case 'boolean':
        return fc.boolean();
      case 'array': {
        const minLength = schema.minItems ?? 0;
        const maxLength = Math.min(schema.maxItems ?? minLength + 5, minLength + 5);
        return fc.array(validArbitrary(schema.items ?? {}, resolve, known), { minLength, maxLength });
      }
      case 'object': {
        const properties = schema.properties ?? {};
        const model = Object.fromEntries(Object.entries(properties).map(([key, s]) => [key, validArbitrary(s, resolve, known, key)]));
        return fc.record(model, { requiredKeys: (schema.required ?? []).filter((key) => key in properties) });
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  })();
  const withNull = schema.nullable === true ? fc.option(own, { nil: null, freq: 5 }) : own;
  const values = name === undefined ? undefined : known[name];
  return values === undefined || values.length === 0 ? withNull : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: withNull });
}

/** A string of `length` letters (no white space: a server that trims gets the same length). */
const letters = (length: number) => fc.string({ minLength: length, maxLength: length, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz') });

/**
 * Values `schema` refuses, each breaking one rule (a type, a bound, a length, a pattern, a
 * required property, an unknown one, one property or item), or undefined when it refuses none.
 */
export function invalidArbitrary(schema: Schema, resolve: (ref: string) => Schema, known: KnownValues = {}): fc.Arbitrary<unknown> | undefined {
  if (schema.$ref !== undefined) return invalidArbitrary(resolve(schema.$ref), resolve, known);
  const ways: fc.Arbitrary<unknown>[] = [];
  const wrongType = schema.type === 'string' ? fc.constantFrom<unknown>(7, true, [], {}) : fc.constantFrom<unknown>('x', [], {}, ...(schema.type === 'boolean' ? [] : [true]));
  if (schema.enum !== undefined) ways.push(letters(8).map((s) => `not-${s}`), wrongType);
  else if (schema.type !== undefined) ways.push(wrongType);
  switch (schema.enum === undefined ? schema.type : undefined) {
    case 'string': {
      if (schema.maxLength !== undefined) ways.push(fc.integer({ min: schema.maxLength + 1, max: schema.maxLength + 5 }).chain(letters));
      if ((schema.minLength ?? 0) > 0) ways.push(letters(schema.minLength! - 1));
      if (schema.format === 'date-time') ways.push(fc.constantFrom('yesterday', '2030-13-45T25:61:00Z', '2030-01-31 18:00', '2030-01-31T18:00:00'));
      if (schema.pattern !== undefined) {
        const pattern = new RegExp(schema.pattern, 'u');
        ways.push(fc.string({ ...lengthsOf(schema), unit: 'grapheme-ascii' }).filter((s) => !pattern.test(s)));
      }
      break;
    }
    case 'number':
    case 'integer': {
      if (schema.minimum !== undefined) ways.push(fc.integer({ min: 1, max: 1_000 }).map((d) => schema.minimum! - d));
      if (schema.maximum !== undefined) ways.push(fc.integer({ min: 1, max: 1_000 }).map((d) => schema.maximum! + d));
      if (schema.type === 'integer') ways.push(fc.constant((schema.minimum ?? 0) + 0.5));
      break;
    }
    case 'array': {
      if (schema.maxItems !== undefined) {
        const item = validArbitrary(schema.items ?? {}, resolve, known);
        ways.push(fc.array(item, { minLength: schema.maxItems + 1, maxLength: schema.maxItems + 2 }));
      }
      const badItem = schema.items === undefined ? undefined : invalidArbitrary(schema.items, resolve, known);
      if (badItem !== undefined) ways.push(fc.tuple(validArbitrary(schema, resolve, known), badItem).map(([items, bad]) => [...(items as unknown[]), bad]));
      break;
    }
    case 'object': {
      const valid = validArbitrary(schema, resolve, known) as fc.Arbitrary<Record<string, unknown>>;
      const properties = schema.properties ?? {};
      const required = (schema.required ?? []).filter((key) => key in properties);
      if (required.length > 0) ways.push(fc.tuple(valid, fc.constantFrom(...required)).map(([value, key]) => omit(value, key)));
      if (schema.additionalProperties === false) ways.push(fc.tuple(valid, letters(6)).map(([value, key]) => ({ ...value, [`unknown_${key}`]: 1 })));
      for (const [key, property] of Object.entries(properties)) {
        const bad = invalidArbitrary(property, resolve, known);
        if (bad !== undefined) ways.push(fc.tuple(valid, bad).map(([value, b]) => ({ ...value, [key]: b })));
      }
      break;
    }
  }
  return ways.length === 0 ? undefined : fc.oneof(...ways);
}

function omit(value: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _, ...rest } = value;
  return rest;
}
