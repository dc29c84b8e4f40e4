/**
 * The import loop: ask Mongo for due sources (a batch), claim each (a lease: see
 * source-store.ts), and hand the claimed ones to at most IMPORT_CONCURRENCY fetches at once.
 * While fetches run, the loop checks again as soon as a slot frees up; with nothing due it
 * waits IMPORT_POLL_MS. `stop()` ends the loop and waits for the fetches in flight.
 */
import type { Logger } from '@pushtech/logging';
import { sleep } from '@pushtech/backoff';
import { importSource, type ImportDeps } from './import-source.ts';

export interface SchedulerOptions {
  batchSize: number;
  concurrency: number;
  pollMs: number;
  /** IMPORT_LEASE_MS: how long a claim of a failed import holds. */
  leaseMs: number;
}

export interface Scheduler {
  /** One due check and its fetches to the end (tests, the benchmark). Returns how many sources were claimed. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startScheduler(deps: ImportDeps, options: SchedulerOptions & { loop?: boolean }): Scheduler {
  const now = deps.now ?? Date.now;
  const abort = new AbortController();
  const running = new Set<Promise<void>>();
  /**
   * Sources this instance is fetching, and those whose import failed on Kafka or Mongo (their
   * claim holds until its lease ends): not asked for meanwhile, so they cannot fill a batch.
   */
  const inFlight = new Set<string>();
  const failed = new Map<string, number>();
  const logger: Logger = deps.logger;

  function launch(claimed: Parameters<typeof importSource>[1]): void {
    const id = claimed.source._id;
    inFlight.add(id);
    const task = importSource(deps, claimed)
      .then(() => {}, (err: unknown) => {
        failed.set(id, now() + options.leaseMs);
        logger.error({ err, sourceId: id }, 'import failed: the source is tried again when its claim lapses');
      })
      .finally(() => {
        running.delete(task);
        inFlight.delete(id);
      });
    running.add(task);
  }

  /** Claims due sources while there are free slots; returns how many it claimed. */
  async function check(): Promise<number> {
    const free = options.concurrency - running.size;
    if (free <= 0) return 0;
    const started = performance.now();
    for (const [id, until] of failed) if (until <= now()) failed.delete(id);
    const due = await deps.sources.due(new Date(now()), options.batchSize, new Set([...inFlight, ...failed.keys()]));
    deps.metrics.dueCheckSeconds.observe((performance.now() - started) / 1000);
    // Claims for the free slots at once (each is an insert and a read); a lost one leaves its slot to the next check.
    const at = new Date(now());
    const claims = await Promise.all(due.slice(0, free).map(({ _id, nextDueAt }) => deps.sources.claim(_id, nextDueAt, at)));
    let claimedCount = 0;
    for (const claimed of claims) {
      if (claimed === undefined) continue;
      if (abort.signal.aborted) {
        await deps.sources.release(claimed, claimed.source.nextDueAt ?? at);
        continue;
      }
      claimedCount += 1;
      launch(claimed);
    }
    return claimedCount;
  }

  async function loop(): Promise<void> {
    while (!abort.signal.aborted) {
      let claimed = 0;
      try {
        claimed = await check();
      } catch (err) {
        logger.warn({ err }, 'due check failed: trying again');
      }
      try {
        if (running.size >= options.concurrency) await Promise.race(running);
        else if (claimed === 0) await Promise.race([sleep(options.pollMs, abort.signal), ...running]);
      } catch {
        // aborted
      }
    }
  }

  const looping = options.loop === false ? Promise.resolve() : loop();

  return {
    async runOnce() {
      let total = 0;
      for (;;) {
        const claimed = await check();
        total += claimed;
        if (claimed === 0 && running.size === 0) return total;
        if (running.size > 0) await Promise.race(running);
      }
    },
    async stop() {
      abort.abort();
      await looping;
      await Promise.allSettled([...running]);
    },
  };
}
