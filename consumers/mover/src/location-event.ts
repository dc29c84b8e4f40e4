/**
 * Location events as they arrive on topic `events` (an `EnrichedEvent` of
 * @pushtech/events): `type: "location"`, `data.lng` / `data.lat` (numbers, the
 * tracker checked them), the user in `data.context.userId`.
 */
import type { ConsumedMessage } from '@pushtech/kafka';
import { point, type Point } from '@pushtech/listings';

export type LocationOutcome =
  | { kind: 'location'; userId: string; location: Point }
  /** Another type of event: not the mover's business. */
  | { kind: 'other' }
  /** A location of an anonymous visitor: no listing to move. */
  | { kind: 'no-user' }
  | { kind: 'invalid'; reason: string };

const inRange = (value: unknown, limit: number): value is number => typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= limit;

export function readLocationEvent(message: Pick<ConsumedMessage, 'value'>): LocationOutcome {
  if (message.value === null) return { kind: 'invalid', reason: 'empty record' };
  let event: { type?: unknown; data?: { lng?: unknown; lat?: unknown; context?: { userId?: unknown } } };
  try {
    event = JSON.parse(message.value.toString('utf8'));
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  if (event?.type !== 'location') return { kind: 'other' };
  const userId = event.data?.context?.userId;
  if (typeof userId !== 'string' || userId === '') return { kind: 'no-user' };
  const { lng, lat } = event.data ?? {};
  if (!inRange(lng, 180) || !inRange(lat, 90)) return { kind: 'invalid', reason: 'data.lng / data.lat must be numbers in range' };
  return { kind: 'location', userId, location: point(lng, lat) };
}
