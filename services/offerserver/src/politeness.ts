/**
 * Being a polite client: robots.txt per origin (robots-parser, cached), and at most N requests
 * per host per minute in this instance (a sliding window). A host's `Retry-After` (429/503)
 * holds for every instance: it is kept in Mongo (`offer_hosts`, see source-store.ts).
 */
import robotsParserModule from 'robots-parser';
import { fetchUrl, FetchError, type FetchOptions } from './fetcher.ts';

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
  const cache = new Map<string, { robot: Robot | undefined; until: number }>();
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
    /** Whether robots.txt lets us fetch `url`; throws when robots.txt cannot be read (5xx, network). */
    async allows(url: string): Promise<boolean> {
      const origin = new URL(url).origin;
      let entry = cache.get(origin);
      if (entry === undefined || entry.until <= now()) {
        entry = { robot: await load(origin), until: now() + ROBOTS_TTL_MS };
        cache.set(origin, entry);
      }
      return entry.robot?.isAllowed(url, token) ?? true;
    },
  };
}

export type Robots = ReturnType<typeof createRobots>;

/** At most `perMinute` requests per host in any 60 s: `take` says when the next one may go. */
export function createHostLimiter(perMinute: number, now: () => number = Date.now) {
  const sent = new Map<string, number[]>();
  return {
    /** Takes a slot and returns 0, or returns how many ms until one is free (nothing taken). */
    take(host: string): number {
      const t = now();
      const recent = (sent.get(host) ?? []).filter((at) => at > t - 60_000);
      if (recent.length >= perMinute) {
        sent.set(host, recent);
        return recent[0]! + 60_000 - t;
      }
      recent.push(t);
      sent.set(host, recent);
      return 0;
    },
  };
}

export type HostLimiter = ReturnType<typeof createHostLimiter>;
