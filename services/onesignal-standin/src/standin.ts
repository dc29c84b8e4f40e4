/**
 * A local stand-in for the part of OneSignal's REST API the notifier uses:
 * create notification, `POST {apiRoot}/notifications` (also under `/api/v1`,
 * onesignal-node's default root). It checks the `Authorization` header
 * (`Basic <key>` or `Key <key>`) and `app_id`, validates the body roughly like
 * OneSignal (400 with `{errors: [...]}`), answers `{id}` — the same id again
 * for an `idempotency_key` it has seen — and records every call.
 *
 * Tests and the demo steer it: a script of statuses answered in turn
 * (429 with `Retry-After`, 5xx, 401 …), for every call or only for calls that
 * target one user; external ids starting with `unknown` are not subscribed
 * (a 200 with `errors.invalid_aliases`, like OneSignal).
 *
 *   GET    /_standin/requests   what it received
 *   GET    /_standin/stats      counts only: {calls, created, byStatus}
 *   DELETE /_standin/requests   forget it (and the counts)
 *   POST   /_standin/script     {statuses: [429, 500, 200], retryAfter?, forUser?}
 *   GET    /_standin/script     what is left of the scripts
 *   DELETE /_standin/script     drop every script
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

/** One scripted answer: a status, or a status with its own body, `Retry-After` or delay. */
export type ScriptEntry =
  | number
  | {
    status: number;
    /** The body as sent (any text, e.g. "" or "<html>"); default: a OneSignal-like JSON body. */
    body?: string;
    contentType?: string;
    /** Seconds, for the `Retry-After` header (429 and 503 get 1 by default). */
    retryAfter?: number;
    /** Wait this long before answering (to provoke client timeouts). */
    delayMs?: number;
  };

export interface Script {
  statuses: ScriptEntry[];
  /** Default `Retry-After` seconds of this script's 429s and 503s. */
  retryAfter?: number;
  /** Only for calls whose `include_aliases.external_id` contains this id. */
  forUser?: string;
}

export interface RecordedCall {
  /** In order of arrival, from 1. */
  seq: number;
  at: string;
  path: string;
  /** The scheme of the Authorization header (`Basic`, `Key`), if any. */
  authScheme?: string;
  body: unknown;
  status: number;
  /** What it answered (text as sent). */
  response: string;
  /** Whether it answered from a script. */
  scripted: boolean;
  /** A 200 for an idempotency_key seen before: OneSignal would not push again. */
  duplicate?: boolean;
}

export interface StandinOptions {
  port?: number;
  host?: string;
  /** When set, only this app_id is accepted; otherwise any UUID. */
  appId?: string;
  /** When set, only this key is accepted; otherwise any non-empty one. */
  apiKey?: string;
  /** Fastify's logger (default off). */
  logger?: boolean;
  /** Called with every recorded call (the demo logs them). */
  onCall?: (call: RecordedCall) => void;
  /** Calls kept for GET /_standin/requests; the oldest go first (default 100,000). */
  maxRecorded?: number;
}

export interface Standin {
  url: string;
  /** What the notifier's ONESIGNAL_API_ROOT should be (the same as `url`). */
  apiRoot: string;
  port: number;
  calls: RecordedCall[];
  /** Calls that created (or would have created) a notification: 200s. */
  notifications(): RecordedCall[];
  /** Forgets the recorded calls and the counts (scripts and known idempotency keys stay). */
  clear(): void;
  stats(): StandinStats;
  script(script: Script): void;
  clearScripts(): void;
  http: FastifyInstance;
  close(): Promise<void>;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TARGETS = ['include_aliases', 'include_subscription_ids', 'included_segments', 'filters', 'include_player_ids', 'include_external_user_ids'];
const MAX_TARGETS = 2_000;

export const MESSAGES = {
  noAuth: "Access denied.  Please include an 'Authorization: ...' header with a valid API key (https://documentation.onesignal.com/docs/en/keys-and-ids#api-keys).",
  badAppId: 'app_id not found. You may be missing a Content-Type: application/json header.',
  noContents: 'Message Notifications must have English language content',
  noTargets: 'You must include which players, segments, or tags you wish to send this notification to.',
  notSubscribed: 'All included players are not subscribed',
  rateLimited: 'API rate limit exceeded',
  serverError: 'Internal Server Error',
} as const;

const canned: Record<number, string> = {
  400: 'Bad Request',
  401: MESSAGES.noAuth,
  403: MESSAGES.noAuth,
  404: 'Not Found',
  429: MESSAGES.rateLimited,
  500: MESSAGES.serverError,
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

interface Answer {
  status: number;
  body: string;
  contentType: string;
  headers: Record<string, string>;
  duplicate?: boolean;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  status, body: JSON.stringify(body), contentType: 'application/json; charset=utf-8', headers,
});
const errors = (status: number, ...messages: string[]) => json(status, { errors: messages });

/** "Basic abc" → {scheme, key}. */
function parseAuthorization(header: string | undefined): { scheme: string; key: string } | undefined {
  const m = /^(\S+)\s+(.+)$/.exec(header?.trim() ?? '');
  return m ? { scheme: m[1]!, key: m[2]!.trim() } : undefined;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');
}

function validate(body: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const contents = body.contents as Record<string, unknown> | undefined;
  if (body.template_id === undefined && (typeof contents !== 'object' || contents === null || typeof contents.en !== 'string' || contents.en === '')) {
    problems.push(MESSAGES.noContents);
  }
  if (body.headings !== undefined && (typeof body.headings !== 'object' || body.headings === null || Array.isArray(body.headings))) {
    problems.push('headings must be an object of texts by language code');
  }
  if (!TARGETS.some((t) => body[t] !== undefined)) problems.push(MESSAGES.noTargets);
  if (body.include_aliases !== undefined) {
    const aliases = body.include_aliases as Record<string, unknown> | null;
    const ids = typeof aliases === 'object' && aliases !== null ? aliases.external_id : undefined;
    if (!isStringArray(ids) || ids.length === 0) problems.push('include_aliases must be like {"external_id": ["..."]}');
    else if (ids.length > MAX_TARGETS) problems.push(`include_aliases: at most ${MAX_TARGETS} aliases per call`);
    if (body.target_channel === undefined) problems.push('target_channel is required with include_aliases (push, email or sms)');
  }
  if (body.target_channel !== undefined && !['push', 'email', 'sms'].includes(body.target_channel as string)) {
    problems.push('target_channel must be one of push, email, sms');
  }
  if (body.include_subscription_ids !== undefined) {
    const ids = body.include_subscription_ids;
    if (!isStringArray(ids) || ids.length === 0) problems.push('include_subscription_ids must be a non-empty array of ids');
    else if (ids.length > MAX_TARGETS) problems.push(`include_subscription_ids: at most ${MAX_TARGETS} per call`);
  }
  if (body.idempotency_key !== undefined && (typeof body.idempotency_key !== 'string' || !uuidPattern.test(body.idempotency_key))) {
    problems.push('idempotency_key must be a UUID');
  }
  if (body.data !== undefined && (typeof body.data !== 'object' || body.data === null || Array.isArray(body.data))) {
    problems.push('data must be an object');
  }
  return problems;
}

export interface StandinStats {
  /** Calls received (all, not only those still recorded). */
  calls: number;
  /** Calls answered 200 that created a notification (not duplicates of an idempotency key). */
  created: number;
  byStatus: Record<string, number>;
}

export async function startStandin(options: StandinOptions = {}): Promise<Standin> {
  const calls: RecordedCall[] = [];
  const counts = { calls: 0, created: 0, byStatus: {} as Record<string, number> };
  const stats = (): StandinStats => ({ calls: counts.calls, created: counts.created, byStatus: { ...counts.byStatus } });
  let scripts: Script[] = [];
  /** idempotency_key → notification id */
  const created = new Map<string, string>();
  let seq = 0;
  const clear = () => {
    calls.length = 0;
    Object.assign(counts, { calls: 0, created: 0, byStatus: {} });
  };
  const maxRecorded = options.maxRecorded ?? 100_000;

  function scriptedEntry(body: unknown): { entry: ScriptEntry; script: Script } | undefined {
    const ids = (body as { include_aliases?: { external_id?: unknown } } | null)?.include_aliases?.external_id;
    const targeted = Array.isArray(ids) ? ids : [];
    const script = scripts.find((s) => s.statuses.length > 0 && s.forUser !== undefined && targeted.includes(s.forUser))
      ?? scripts.find((s) => s.statuses.length > 0 && s.forUser === undefined);
    if (!script) return undefined;
    const entry = script.statuses.shift()!;
    if (script.statuses.length === 0) scripts = scripts.filter((s) => s !== script);
    return { entry, script };
  }

  function createNotification(body: Record<string, unknown>): Answer {
    const problems = validate(body);
    if (problems.length > 0) return errors(400, ...problems);
    const key = typeof body.idempotency_key === 'string' ? body.idempotency_key : undefined;
    const seen = key === undefined ? undefined : created.get(key);
    const ids = (body.include_aliases as { external_id?: string[] } | undefined)?.external_id ?? [];
    const invalid = ids.filter((id) => id.startsWith('unknown'));
    const answer: Record<string, unknown> = {};
    if (invalid.length > 0 && invalid.length === ids.length) {
      answer.id = '';
      answer.errors = { invalid_aliases: { external_id: invalid } };
      return json(200, answer);
    }
    const id = seen ?? randomUUID();
    if (key !== undefined) created.set(key, id);
    answer.id = id;
    if (typeof body.external_id === 'string') answer.external_id = body.external_id;
    if (invalid.length > 0) answer.errors = { invalid_aliases: { external_id: invalid } };
    return { ...json(200, answer), ...(seen === undefined ? {} : { duplicate: true }) };
  }

  function answerFromScript(entry: ScriptEntry, script: Script, body: Record<string, unknown>): Answer {
    const e = typeof entry === 'number' ? { status: entry } : entry;
    const retryAfter = e.retryAfter ?? (e.status === 429 || e.status === 503 ? script.retryAfter ?? 1 : undefined);
    const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };
    if (e.body !== undefined) return { status: e.status, body: e.body, contentType: e.contentType ?? 'application/json; charset=utf-8', headers };
    if (e.status >= 200 && e.status < 300) return { ...createNotification(body), headers };
    return { ...errors(e.status, canned[e.status] ?? `Scripted ${e.status}`), headers };
  }

  function authorize(header: string | undefined, body: Record<string, unknown>): Answer | undefined {
    const auth = parseAuthorization(header);
    if (!auth || !['basic', 'key'].includes(auth.scheme.toLowerCase())) return errors(401, MESSAGES.noAuth);
    if (options.apiKey !== undefined && auth.key !== options.apiKey) return errors(403, MESSAGES.noAuth);
    const appId = body.app_id;
    if (typeof appId !== 'string' || !uuidPattern.test(appId) || (options.appId !== undefined && appId !== options.appId)) {
      return errors(400, MESSAGES.badAppId);
    }
    return undefined;
  }

  async function send(reply: FastifyReply, answer: Answer) {
    for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
    return reply.code(answer.status).type(answer.contentType).send(answer.body);
  }

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 1024 * 1024 });
  // OneSignal answers a body that is not JSON with 400 and {errors}.
  app.setErrorHandler(async (error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? 400 : 500;
    return send(reply, errors(status, status === 400 ? `Invalid request body: ${error.message}` : MESSAGES.serverError));
  });

  const notifications = async (request: { headers: Record<string, unknown>; body: unknown; url: string }, reply: FastifyReply) => {
    const body = (typeof request.body === 'object' && request.body !== null && !Array.isArray(request.body) ? request.body : {}) as Record<string, unknown>;
    const authHeader = typeof request.headers.authorization === 'string' ? request.headers.authorization : undefined;
    // A call that fails the key or app_id check is answered so, whatever the script says.
    const denied = authorize(authHeader, body);
    const scripted = denied ? undefined : scriptedEntry(body);
    let answer: Answer;
    if (denied) answer = denied;
    else if (scripted) {
      const e = typeof scripted.entry === 'number' ? undefined : scripted.entry;
      if (e?.delayMs) await new Promise((resolve) => setTimeout(resolve, e.delayMs));
      answer = answerFromScript(scripted.entry, scripted.script, body);
    } else answer = createNotification(body);
    const call: RecordedCall = {
      seq: ++seq,
      at: new Date().toISOString(),
      path: request.url,
      ...(authHeader ? { authScheme: parseAuthorization(authHeader)?.scheme } : {}),
      body: request.body,
      status: answer.status,
      response: answer.body,
      scripted: scripted !== undefined,
      ...(answer.duplicate ? { duplicate: true } : {}),
    };
    calls.push(call);
    counts.calls++;
    counts.byStatus[answer.status] = (counts.byStatus[answer.status] ?? 0) + 1;
    if (answer.status === 200 && !answer.duplicate) counts.created++;
    if (calls.length > maxRecorded) calls.splice(0, calls.length - maxRecorded);
    options.onCall?.(call);
    return send(reply, answer);
  };
  app.post('/notifications', notifications);
  app.post('/api/v1/notifications', notifications);

  app.get('/_standin/requests', async () => ({ count: calls.length, requests: calls }));
  app.get('/_standin/stats', async () => stats());
  app.delete('/_standin/requests', async () => {
    clear();
    return { count: 0 };
  });
  app.get('/_standin/script', async () => ({ scripts }));
  app.delete('/_standin/script', async () => {
    scripts = [];
    return { scripts };
  });
  app.post('/_standin/script', async (request, reply) => {
    const problem = checkScript(request.body);
    if (problem) return reply.code(400).send({ errors: [problem] });
    const script = request.body as Script;
    scripts = scripts.filter((s) => s.forUser !== script.forUser);
    scripts.push({ ...script, statuses: [...script.statuses] });
    return { scripts };
  });

  const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const port = Number(new URL(address).port);
  const url = `http://${options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1'}:${port}`;
  return {
    url,
    apiRoot: url,
    port,
    calls,
    notifications: () => calls.filter((c) => c.status === 200),
    clear,
    stats,
    script(script) {
      scripts = scripts.filter((s) => s.forUser !== script.forUser);
      scripts.push({ ...script, statuses: [...script.statuses] });
    },
    clearScripts() {
      scripts = [];
    },
    http: app,
    close: () => app.close(),
  };
}

/** What is wrong with a script posted to /_standin/script, if anything. */
export function checkScript(value: unknown): string | undefined {
  const s = value as Partial<Script> | null;
  if (typeof s !== 'object' || s === null || !Array.isArray(s.statuses)) return 'body must be like {"statuses": [429, 500, 200]}';
  for (const entry of s.statuses) {
    const status = typeof entry === 'number' ? entry : (entry as { status?: unknown } | null)?.status;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
      return 'statuses must be HTTP statuses (200–599) or {status, body?, contentType?, retryAfter?, delayMs?}';
    }
  }
  if (s.retryAfter !== undefined && (typeof s.retryAfter !== 'number' || s.retryAfter < 0)) return 'retryAfter must be a number of seconds';
  if (s.forUser !== undefined && (typeof s.forUser !== 'string' || s.forUser === '')) return 'forUser must be an external id';
  return undefined;
}
