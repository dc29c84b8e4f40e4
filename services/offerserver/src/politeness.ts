/**
 * Being a polite client, the same for every request to an outside host (sources, robots.txt,
 * items' images): a host's `Retry-After` (429/503) holds for every instance (kept in Mongo,
 * `offer_hosts`, see source-store.ts); at most FETCH_HOST_PER_MINUTE requests per host per
 * minute across all instances (host-slots.ts; a robots.txt read takes a slot too); robots.txt
 * per origin (robots-parser, cached an hour).
 */
import robotsParserModule from 'robots-parser';
import { fetchUrl, FetchError, retryAfterMs, type FetchOptions, type FetchResult } from './fetcher.ts';
import type { HostSlots } from './host-slots.ts';
import type { SourceStore } from './source-store.ts';

const ROBOTS_TTL_MS = 3_600_000;
const ROBOTS_MAX_BYTES = 512 * 1024;

interface Robot {
  isAllowed(url: string, ua?: string): boolean | undefined;
}
// The package's typings declare an ambient module its default export does not match.
const robotsParser = robotsParserModule as unknown as (url: string, robotstxt: string) => Robot;

export class RobotsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RobotsError';
  }
}

/** The product token robots.txt groups are matched against: the User-Agent's first word. */
export function robotsToken(userAgent: string): string {
  return userAgent.split(/[\s/]/)[0] ?? userAgent;
}

export function createRobots(fetchOptions: Omit<FetchOptions, 'headers' | 'maxBytes'>, now: () => number = Date.now) {
  /** Per origin: its robots.txt (being read, or read), until when it holds. */
  const cache = new Map<string, { robot: Promise<Robot | undefined>; until: number }>();
  const token = robotsToken(fetchOptions.userAgent);

  async function load(origin: string): Promise<Robot | undefined> {
    const robotsUrl = `${origin}/robots.txt`;
    const result = await fetchUrl(robotsUrl, { ...fetchOptions, maxBytes: ROBOTS_MAX_BYTES }).catch((err: unknown) => {
      if (err instanceof FetchError && err.code === 'too_large') return undefined; // an oversized robots.txt: as if none (Google reads only the first 500 KiB)
      throw err;
    });
    if (result === undefined) return undefined;
    if (result.status >= 200 && result.status < 300) return robotsParser(robotsUrl, result.body.toString('utf8'));
    if (result.status >= 400 && result.status < 500) return undefined; // no robots.txt: everything is allowed
    throw new RobotsError(`robots.txt answered ${result.status}: not fetching until it can be read`);
  }

  return {
    /**
     * Whether robots.txt lets us fetch `url`; throws when robots.txt cannot be read (5xx,
     * network) or `beforeRead` throws. `beforeRead` runs before robots.txt is requested (once
     * for all the callers waiting for the same origin).
     */
    async allows(url: string, beforeRead: () => Promise<void> = async () => {}): Promise<boolean> {
      const origin = new URL(url).origin;
      let entry = cache.get(origin);
      if (entry === undefined || entry.until <= now()) {
        entry = { robot: beforeRead().then(() => load(origin)), until: now() + ROBOTS_TTL_MS };
        cache.set(origin, entry);
        const loading = entry;
        // Not readable now: not remembered, the next request reads it again.
        loading.robot.catch(() => {
          if (cache.get(origin) === loading) cache.delete(origin);
        });
      }
      return (await entry.robot)?.isAllowed(url, token) ?? true;
    },
  };
}

export type Robots = ReturnType<typeof createRobots>;

/** May a request go: `go`, `wait` until `untilMs` (the host's Retry-After or its rate; not an error), or `disallowed` by robots.txt. */
class HostBusy extends Error {
  readonly untilMs: number;
  constructor(untilMs: number) {
    super('the host must wait');
    this.untilMs = untilMs;
  }
}

export type Permission = { verdict: 'go' } | { verdict: 'wait'; untilMs: number } | { verdict: 'disallowed' };

export function createPoliteness(deps: {
  robots: Robots;
  slots: HostSlots;
  hosts: Pick<SourceStore, 'hostBlockedUntil' | 'blockHost'>;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;

  async function wait(host: string): Promise<number> {
    const blockedUntil = (await deps.hosts.hostBlockedUntil(host))?.getTime() ?? 0;
    if (blockedUntil > now()) return blockedUntil;
    const waitMs = await deps.slots.take(host);
    return waitMs > 0 ? now() + waitMs : 0;
  }

  return {
    /**
     * Asks before a request to `url`: takes one of the host's slots when it may go (and one
     * more when robots.txt must be read first). Throws RobotsError or FetchError when
     * robots.txt cannot be read.
     */
    async permit(url: string): Promise<Permission> {
      if (!URL.canParse(url)) throw new FetchError('bad_url', `not a URL: ${url}`);
      const host = new URL(url).host;
      let allowed: boolean;
      try {
        allowed = await deps.robots.allows(url, async () => {
          const untilMs = await wait(host);
          if (untilMs > 0) throw new HostBusy(untilMs);
        });
      } catch (err) {
        if (err instanceof HostBusy) return { verdict: 'wait', untilMs: err.untilMs };
        throw err;
      }
      if (!allowed) return { verdict: 'disallowed' };
      const untilMs = await wait(host);
      return untilMs > 0 ? { verdict: 'wait', untilMs } : { verdict: 'go' };
    },
    /** After an answer from `url`: a 429 or 503 with `Retry-After` holds its host for every instance. Returns when the host may be asked again (undefined: no Retry-After). */
    async answered(url: string, response: Pick<FetchResult, 'status' | 'headers'>): Promise<number | undefined> {
      if (response.status !== 429 && response.status !== 503) return undefined;
      const after = retryAfterMs(response.headers['retry-after'], now());
      if (after === undefined) return undefined;
      await deps.hosts.blockHost(new URL(url).host, new Date(now() + after));
      return now() + after;
    },
  };
}

export type Politeness = ReturnType<typeof createPoliteness>;
