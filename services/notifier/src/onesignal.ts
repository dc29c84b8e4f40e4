/**
 * The one call the notifier makes: create a notification,
 * `POST {apiRoot}/notifications`. Two clients make the same call:
 *
 * - `onesignal-node` (v3, the library DESIGN.md chose): `Authorization: Basic <key>`
 *   always; on a non-2xx answer it rejects with an `HTTPError` that keeps the
 *   status and the body (re-serialised from its JSON parse) but no headers, so
 *   `Retry-After` is not visible; no timeout of its own. See the README.
 * - `fetch` (Node's built-in): the same request, with `Basic` or `Key` (the
 *   scheme of OneSignal's current App API keys), the raw body, every header,
 *   and a timeout that aborts the call.
 *
 * Both return what came back as an `Answer`; neither throws for an HTTP status.
 */
import { Client, HTTPError } from 'onesignal-node';
import type { PushRequest } from '@pushtech/contracts';
import type { Answer } from './outcome.ts';

export const ONESIGNAL_CLIENTS = ['onesignal-node', 'fetch'] as const;
export type OneSignalClientName = (typeof ONESIGNAL_CLIENTS)[number];
export const AUTH_SCHEMES = ['Basic', 'Key'] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

/** The body of a create-notification call, without `app_id` (each client adds it). */
export interface NotificationBody {
  idempotency_key: string;
  target_channel: 'push';
  include_aliases?: { external_id: string[] };
  include_subscription_ids?: string[];
  headings?: Record<string, string>;
  contents: Record<string, string>;
  data?: Record<string, unknown>;
}

export interface NotificationSender {
  readonly name: OneSignalClientName;
  send(body: NotificationBody): Promise<Answer>;
}

export interface SenderOptions {
  apiRoot: string;
  appId: string;
  apiKey: string;
  timeoutMs: number;
  /** `fetch` only; `onesignal-node` always sends `Basic`. */
  authScheme?: AuthScheme;
}

const localized = (text: string | Record<string, string>) => (typeof text === 'string' ? { en: text } : text);

/**
 * The OneSignal body for a push request: users by `include_aliases.external_id`
 * (or subscriptions by id) on the push channel, and the request's uuid as
 * `idempotency_key`, so that a retry after a lost answer never pushes twice.
 */
export function notificationBody(request: PushRequest): NotificationBody {
  const { args } = request;
  return {
    idempotency_key: request.uuid,
    target_channel: 'push',
    ...(args.userIds ? { include_aliases: { external_id: args.userIds } } : {}),
    ...(args.subscriptionIds ? { include_subscription_ids: args.subscriptionIds } : {}),
    ...(args.heading === undefined ? {} : { headings: localized(args.heading) }),
    contents: localized(args.content),
    ...(args.data === undefined ? {} : { data: args.data }),
  };
}

/** "timeout", or the error with its code or cause: "fetch failed: ECONNREFUSED". */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'timeout';
  const cause = (err as { cause?: unknown }).cause;
  const code = (err as { code?: unknown }).code;
  const detail = typeof code === 'string' ? code
    : cause instanceof Error ? ((cause as { code?: unknown }).code as string | undefined) ?? cause.message
    : undefined;
  return detail && !err.message.includes(detail) ? `${err.message}: ${detail}` : err.message;
}

export function createFetchSender(options: SenderOptions): NotificationSender {
  const url = `${options.apiRoot.replace(/\/+$/, '')}/notifications`;
  const authorization = `${options.authScheme ?? 'Basic'} ${options.apiKey}`;
  return {
    name: 'fetch',
    async send(body) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', authorization, accept: 'application/json' },
          body: JSON.stringify({ app_id: options.appId, ...body }),
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        const text = await res.text();
        const retryAfter = res.headers.get('retry-after') ?? undefined;
        return { kind: 'http', status: res.status, text, ...(retryAfter === undefined ? {} : { retryAfter }) };
      } catch (err) {
        return { kind: 'error', message: errorMessage(err) };
      }
    },
  };
}

/** Text of a body as onesignal-node hands it over (already JSON-parsed when it could be). */
function textOf(body: unknown): string {
  if (body === undefined || body === null) return '';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

export function createOneSignalNodeSender(options: SenderOptions): NotificationSender {
  if ((options.authScheme ?? 'Basic') !== 'Basic') throw new Error('onesignal-node sends only "Authorization: Basic <key>"');
  const client = new Client(options.appId, options.apiKey, { apiRoot: options.apiRoot });
  return {
    name: 'onesignal-node',
    async send(body) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), options.timeoutMs);
      });
      try {
        // onesignal-node's body type predates include_aliases, target_channel and idempotency_key.
        const res = await Promise.race([client.createNotification(body as unknown as Parameters<Client['createNotification']>[0]), timeout]);
        const retryAfter = res.headers['retry-after'] as string | undefined;
        return { kind: 'http', status: res.statusCode, text: textOf(res.body), ...(retryAfter === undefined ? {} : { retryAfter }) };
      } catch (err) {
        if (err instanceof HTTPError) {
          // HTTPError.body is the parsed body re-serialised; an empty body arrives as the string "undefined".
          return { kind: 'http', status: err.statusCode, text: err.body === 'undefined' ? '' : err.body };
        }
        return { kind: 'error', message: errorMessage(err) };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export function createSender(client: OneSignalClientName, options: SenderOptions): NotificationSender {
  return client === 'fetch' ? createFetchSender(options) : createOneSignalNodeSender(options);
}
