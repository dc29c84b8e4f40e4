import type { z } from 'zod';
import { fieldErrors, type Validation } from '@pushtech/events';

/** A Kafka record's value as JSON, or why it is not. */
export function parseJson(value: Buffer | null): Validation<unknown> {
  if (value === null) return { ok: false, errors: [{ field: 'value', rule: 'must not be empty' }] };
  try {
    return { ok: true, value: JSON.parse(value.toString('utf8')) };
  } catch {
    return { ok: false, errors: [{ field: 'value', rule: 'must be JSON' }] };
  }
}

/** A record's value as JSON that `schema` accepts (its output), or `{field, rule}`s saying why not. */
export function decodeJson<T>(value: Buffer | null, schema: z.ZodType<T>): Validation<T> {
  const json = parseJson(value);
  if (!json.ok) return json;
  const checked = schema.safeParse(json.value);
  return checked.success ? { ok: true, value: checked.data } : { ok: false, errors: fieldErrors(checked.error) };
}
