/**
 * Topic `notify.requests`: the notifier's input, one request per record
 * (DESIGN.md, "Notifier protocol"; services/notifier/README.md). Any key: the
 * notifier serves producers by response topic, not by partition; `key` here
 * keeps one user's pushes in order. Kept 7 days.
 *
 * Written by the notify bridge (and any other producer of pushes); read by the
 * notifier. `decode` is the notifier's validation: each rule's message is what
 * a failure response's `reason` says, after the field's path.
 */
import { z } from 'zod';
import { days } from '@pushtech/kafka';
import type { TopicContract } from '../topic.ts';

export const OPERATIONS = ['copy', 'success', 'failure', 'retry'] as const;
export type Operation = (typeof OPERATIONS)[number];

export const STATUS_CLASSES = ['2xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** Levels a style entry may ask for (`silent` has its own flag). */
export const STYLE_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export const LIMITS = {
  /** OneSignal accepts up to 2,000 aliases or subscription ids per call. */
  targetsMax: 2_000,
  idMaxChars: 128,
  textMaxChars: 4_000,
  dataMaxBytes: 2_048,
  /** Kafka's limit on topic names. */
  topicMaxChars: 249,
} as const;

/** The message for a missing field, or `rule` for a value of the wrong type. */
const typed = (rule: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : rule);

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const topicPattern = /^[a-zA-Z0-9._-]+$/;

const uuid = z.string({ error: typed('must be a UUID') }).regex(uuidPattern, 'must be a UUID');
const topicName = z
  .string({ error: typed('must be a Kafka topic name') })
  .min(1, 'must be a Kafka topic name')
  .max(LIMITS.topicMaxChars, `must be at most ${LIMITS.topicMaxChars} characters`)
  .regex(topicPattern, 'must be a Kafka topic name (letters, digits, ".", "_", "-")');
const seconds = z.number({ error: typed('must be a number of seconds since the epoch (UTC)') }).min(0, 'must not be negative');

/** How the notifier treats one status class: `{ "operation": "retry", "ignore_version": true, "level": "info" }`. */
const styleEntry = z.strictObject(
  {
    operation: z.enum(OPERATIONS, { error: typed(`must be one of ${OPERATIONS.join(', ')}`) }),
    /** copy: the body as text, not parsed. */
    raw: z.boolean({ error: typed('must be true or false') }).optional(),
    /** Log nothing for outcomes of this class. */
    silent: z.boolean({ error: typed('must be true or false') }).optional(),
    /** Log outcomes of this class at this level instead of the operation's default. */
    level: z.enum(STYLE_LEVELS, { error: typed(`must be one of ${STYLE_LEVELS.join(', ')}`) }).optional(),
    /** Retries of this class go on after a newer `_connect` for the response topic. */
    ignore_version: z.boolean({ error: typed('must be true or false') }).optional(),
  },
  { error: typed('must be an object like {"operation": "copy"}') },
);
export type StyleEntry = z.infer<typeof styleEntry>;

const style = z.strictObject(
  { '2xx': styleEntry.optional(), '4xx': styleEntry.optional(), '5xx': styleEntry.optional() },
  { error: typed('must be an object keyed by 2xx, 4xx, 5xx') },
);
export type Style = z.infer<typeof style>;

/** A heading or content: one text (sent as English) or texts by OneSignal language code. */
const localized = (max: number) => {
  const text = z.string({ error: typed('must be a string') }).min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
  return z.union([text, z.record(z.string().regex(/^[a-z]{2}(-[A-Za-z]{2,4})?$/, 'must be a language code like "en"'), text)], {
    error: typed('must be a string or an object of texts by language code'),
  });
};
const ids = (what: string) => z
  .array(z.string({ error: typed('must be a string') }).min(1, 'must not be empty').max(LIMITS.idMaxChars, `must be at most ${LIMITS.idMaxChars} characters`), {
    error: typed(`must be an array of ${what}`),
  })
  .min(1, `must name at least one ${what.replace(/s$/, '')}`)
  .max(LIMITS.targetsMax, `must name at most ${LIMITS.targetsMax} ${what}`);

const pushArgs = z
  .strictObject(
    {
      /** OneSignal external ids (`include_aliases.external_id`). */
      userIds: ids('user ids').optional(),
      /** OneSignal subscription ids (`include_subscription_ids`). */
      subscriptionIds: ids('subscription ids').optional(),
      heading: localized(LIMITS.textMaxChars).optional(),
      content: localized(LIMITS.textMaxChars),
      /** Passed to the app with the notification. */
      data: z
        .record(z.string(), z.unknown(), { error: typed('must be an object') })
        .refine((d) => Buffer.byteLength(JSON.stringify(d)) <= LIMITS.dataMaxBytes, `must be at most ${LIMITS.dataMaxBytes} bytes as JSON`)
        .optional(),
    },
    { error: typed('must be an object like {"userIds": [...], "content": "..."}') },
  )
  .refine((a) => (a.userIds === undefined) !== (a.subscriptionIds === undefined), {
    message: 'must have exactly one of userIds, subscriptionIds',
  });
export type PushArgs = z.infer<typeof pushArgs>;

/** What every request has. Unknown top-level fields are kept and ignored (producers may add tracing fields). */
const envelope = z.looseObject({
  type: z.string({ error: typed('must be a string') }).min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
  responseTopic: topicName.optional(),
  uuid,
  versionUtcSeconds: seconds,
  sentAt: seconds.optional(),
  style: style.optional(),
});

const push = envelope.extend({ type: z.literal('push'), args: pushArgs });
const connect = envelope.extend({ type: z.literal('_connect'), responseTopic: topicName });
const control = envelope.extend({ type: z.string().regex(/^_/) });

export type PushRequest = z.infer<typeof push>;
export type ConnectRequest = z.infer<typeof connect>;
export type ControlRequest = z.infer<typeof control>;

/** Control types the notifier knows: `_connect` sets the version of a response topic, `_ping` answers success. */
export const CONTROL_TYPES = ['_connect', '_ping'] as const;

export type ParsedRequest =
  | { kind: 'push'; request: PushRequest }
  | { kind: 'connect'; request: ConnectRequest }
  | { kind: 'ping'; request: ControlRequest }
  /** Not valid: `reason` names the field and the rule; `reply` is what a failure response can carry. */
  | { kind: 'invalid'; reason: string; code: RejectCode; reply: Reply };

/** Why a request was rejected (a metric label). */
export type RejectCode = 'not_json' | 'invalid' | 'unknown_style_key' | 'unknown_type';

/** Where a failure response for a rejected request goes, if anywhere. */
export interface Reply {
  responseTopic?: string;
  uuid: string | null;
  versionUtcSeconds: number | null;
}

function describeIssues(error: z.ZodError): { reason: string; code: RejectCode } {
  let code: RejectCode = 'invalid';
  const parts = error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const inStyle = path === 'style';
      if (inStyle) code = 'unknown_style_key';
      const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(', ');
      return inStyle
        ? `${keys}: unknown style key (allowed: ${STATUS_CLASSES.join(', ')})`
        : `${keys}: unknown field`;
    }
    return `${path || 'request'} ${issue.message}`;
  });
  return { reason: parts.join('; '), code };
}

/** Whatever of the reply address can be read from a request that failed validation. */
function replyOf(value: unknown): Reply {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const topic = topicName.safeParse(v.responseTopic);
  return {
    responseTopic: topic.success ? topic.data : undefined,
    uuid: typeof v.uuid === 'string' ? v.uuid : null,
    versionUtcSeconds: typeof v.versionUtcSeconds === 'number' && Number.isFinite(v.versionUtcSeconds) ? v.versionUtcSeconds : null,
  };
}

/** Parses and validates one record's value. Never throws. */
function parseRequest(value: Buffer | string | null): ParsedRequest {
  let json: unknown;
  try {
    if (value === null) throw new Error('no value');
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    return { kind: 'invalid', code: 'not_json', reason: `not JSON: ${err instanceof Error ? err.message : String(err)}`, reply: { uuid: null, versionUtcSeconds: null } };
  }
  const reply = replyOf(json);
  const base = envelope.safeParse(json);
  if (!base.success) return { kind: 'invalid', reply, ...describeIssues(base.error) };

  const type = base.data.type;
  const schema = type === 'push' ? push : type === '_connect' ? connect : type === '_ping' ? control : undefined;
  if (!schema) {
    const known = type.startsWith('_') ? CONTROL_TYPES.join(', ') : 'push';
    return { kind: 'invalid', code: 'unknown_type', reason: `type "${type}" is unknown (known: ${known})`, reply };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', reply, ...describeIssues(parsed.error) };
  if (type === 'push') return { kind: 'push', request: parsed.data as PushRequest };
  if (type === '_connect') return { kind: 'connect', request: parsed.data as ConnectRequest };
  return { kind: 'ping', request: parsed.data as ControlRequest };
}

/** Any request the notifier accepts. */
export type NotifyRequest = PushRequest | ConnectRequest | ControlRequest;

/** The first target of a push (one user's pushes stay in order), else the uuid. */
function requestKey(request: NotifyRequest): string {
  const args = request.type === 'push' ? (request as PushRequest).args : undefined;
  return args?.userIds?.[0] ?? args?.subscriptionIds?.[0] ?? request.uuid;
}

export const notifyRequestsTopic = {
  spec: { name: 'notify.requests', partitions: 6, retentionMs: days(7) },
  writers: ['notify-bridge'],
  readers: ['notifier'],
  key: requestKey,
  encode(request: NotifyRequest): { key: string; value: string } {
    return { key: requestKey(request), value: JSON.stringify(request) };
  },
  decode: parseRequest,
} satisfies TopicContract;
