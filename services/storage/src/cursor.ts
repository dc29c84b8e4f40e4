/** Opaque page cursors: base64url of a small JSON object; a bad one is a 400 naming `cursor`. */
import type { z } from 'zod';
import { ApiError } from '@pushtech/service';

export function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor<S extends z.ZodType>(cursor: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiError(400, 'invalid_request', [{ field: 'cursor', rule: 'must be a cursor from a previous page' }]);
  return parsed.data;
}
