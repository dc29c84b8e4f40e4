/**
 * What a topic whose records are CloudEvents envelopes (`listings`, `matches`,
 * `users`) declares, and the one encode and decode they all use: the `type`
 * and `data` of the envelope form an event of the topic's union, each type's
 * data checked by its zod schema.
 */
import type { z } from 'zod';
import { createEnvelope, fieldErrors, validateEnvelope, type Envelope, type Validation } from '@pushtech/events';
import { parseJson } from './json.ts';
import type { TopicDeclaration } from './topic.ts';

/** An event of a topic: the envelope's `type` and `data`. */
export interface TypedEvent {
  type: string;
  data: object;
}

/** The data schema of each event type of `E`: the schema's output must be that type's data. */
export type DataSchemas<E extends TypedEvent> = { readonly [T in E['type']]: z.ZodType<Extract<E, { type: T }>['data']> };

/** An event as read from its topic, with what the projections keep of its envelope. */
export interface Recorded<E> {
  /** The envelope's id (a UUIDv7): the same on every duplicate. */
  eventId: string;
  /** The envelope's time (RFC 3339): when the writer decided. */
  time: string;
  event: E;
}

/** What a writer sends: the record's key and value, and the envelope (read-your-writes waits for its id). */
export interface EncodedEvent<E extends TypedEvent> {
  key: string;
  value: string;
  envelope: Envelope<E['data'] & Record<string, unknown>>;
}

export interface EventTopicDeclaration<E extends TypedEvent, W extends string> extends TopicDeclaration {
  /** The services that write the topic; one of them is the envelope's `source`. */
  writers: readonly [W, ...W[]];
  dataSchemas: DataSchemas<E>;
  /** The record key: what keeps related events in order on one partition. */
  key(event: E): string;
  /** The envelope's `subject`: what the event is about (the key unless said otherwise). */
  subject?(event: E): string;
}

export interface EventTopic<E extends TypedEvent, W extends string> extends Required<EventTopicDeclaration<E, W>> {
  /** The record for `event`; `source` defaults to the first writer, `time` to now. */
  encode(event: E, options?: { source?: W; time?: Date }): EncodedEvent<E>;
  /** A record's value as an event of this topic, or `{field, rule}`s saying why not. Never throws. */
  decode(value: Buffer | null): Validation<Recorded<E>>;
}

export function eventTopic<E extends TypedEvent, W extends string>(declaration: EventTopicDeclaration<E, W>): EventTopic<E, W> {
  const { key, dataSchemas, writers } = declaration;
  const subject = declaration.subject ?? key;
  return {
    ...declaration,
    subject,
    encode(event, options = {}) {
      const envelope = createEnvelope({
        source: options.source ?? writers[0],
        type: event.type,
        subject: subject(event),
        time: options.time,
        data: event.data as E['data'] & Record<string, unknown>,
      });
      return { key: key(event), value: JSON.stringify(envelope), envelope };
    },
    decode: (value) => parseEventRecord<E>(value, dataSchemas as Readonly<Record<string, z.ZodType>>),
  };
}

/**
 * A Kafka record's value read as an event: JSON, a valid envelope, a `type`
 * that `dataSchemas` knows, and `data` that its schema accepts (the parsed data
 * is the event's). Every failure comes back as `{field, rule}`s, never thrown.
 */
export function parseEventRecord<E>(value: Buffer | null, dataSchemas: Readonly<Record<string, z.ZodType>>): Validation<Recorded<E>> {
  const json = parseJson(value);
  if (!json.ok) return json;
  const envelope = validateEnvelope(json.value);
  if (!envelope.ok) return envelope;
  const { id, time, type, data } = envelope.value;
  const schema = Object.hasOwn(dataSchemas, type) ? dataSchemas[type] : undefined;
  if (schema === undefined) return { ok: false, errors: [{ field: 'type', rule: `must be one of ${Object.keys(dataSchemas).join(', ')}` }] };
  const checked = schema.safeParse(data);
  if (!checked.success) return { ok: false, errors: fieldErrors(checked.error, 'data') };
  return { ok: true, value: { eventId: id, time, event: { type, data: checked.data } as E } };
}
