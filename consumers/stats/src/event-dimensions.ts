/**
 * What the stats count of one event from `events` (an `EnrichedEvent`): its minute
 * comes from `time` (when the tracker received it), and four dimensions.
 */
export interface CountedEvent {
  id: string;
  /** `time` in milliseconds since the epoch. */
  time: number;
  type: string;
  /** ISO 3166-1 alpha-2 from `data.context.geo.country`; `unknown` without geo (private addresses). */
  country: string;
  /** ua-parser's device type (`mobile`, `tablet`, …); `desktop` when the agent was recognised without one; else `unknown`. */
  device: string;
  /** `data.context.os.name`, else `unknown`. */
  os: string;
}

export const UNKNOWN = 'unknown';

function object(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The counted view of an event, or why it cannot be counted. */
export function countedEvent(value: unknown): { ok: true; event: CountedEvent } | { ok: false; reason: string } {
  const event = object(value);
  if (event === undefined) return { ok: false, reason: 'not a JSON object' };
  const id = text(event.id);
  if (id === undefined) return { ok: false, reason: 'id is missing' };
  const type = text(event.type);
  if (type === undefined) return { ok: false, reason: 'type is missing' };
  const time = typeof event.time === 'string' ? Date.parse(event.time) : Number.NaN;
  if (!Number.isFinite(time)) return { ok: false, reason: 'time must be an RFC 3339 timestamp' };

  const context = object(object(event.data)?.context);
  const os = text(object(context?.os)?.name);
  const browser = text(object(context?.browser)?.name);
  const deviceType = text(object(context?.device)?.type);
  return {
    ok: true,
    event: {
      id,
      time,
      type,
      country: text(object(context?.geo)?.country) ?? UNKNOWN,
      device: deviceType ?? (os !== undefined || browser !== undefined ? 'desktop' : UNKNOWN),
      os: os ?? UNKNOWN,
    },
  };
}
