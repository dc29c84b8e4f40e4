/**
 * Which messages a client sees. Every part that is set must match:
 * - `type`: the event's `type`, exactly;
 * - `userId`: the event's `subject` or `data.context.userId`, exactly;
 * - `text`: a substring of the message value as stored in Kafka (its JSON), ignoring case.
 * `type` and `userId` never match a value that is not a JSON object.
 */
export interface MessageFilter {
  type?: string;
  userId?: string;
  text?: string;
}

/** A message as kafidx reads it: `value` parsed when it is JSON, `raw` as stored. */
export interface ViewedMessage {
  topic: string;
  partition: number;
  offset: string;
  /** Milliseconds since the epoch (the record's Kafka timestamp). */
  timestamp: number;
  key: string | null;
  value: unknown;
  raw: string | null;
}

function field(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const name of path) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[name];
  }
  return at;
}

export type CompiledFilter = (message: ViewedMessage) => boolean;

export function compileFilter(filter: MessageFilter): CompiledFilter {
  const { type, userId } = filter;
  const text = filter.text?.toLowerCase();
  if (type === undefined && userId === undefined && text === undefined) return () => true;
  return (message) => {
    if (type !== undefined && field(message.value, 'type') !== type) return false;
    if (userId !== undefined && field(message.value, 'subject') !== userId && field(message.value, 'data', 'context', 'userId') !== userId) return false;
    if (text !== undefined && (message.raw === null || !message.raw.toLowerCase().includes(text))) return false;
    return true;
  };
}

/** Decodes a Kafka value: JSON when it parses, else the string (binary values come out as UTF-8 with replacement characters). */
export function decodeValue(value: Buffer | null): { value: unknown; raw: string | null } {
  if (value === null) return { value: null, raw: null };
  const raw = value.toString('utf8');
  try {
    return { value: JSON.parse(raw), raw };
  } catch {
    return { value: raw, raw };
  }
}
