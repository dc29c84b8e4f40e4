// Runs a service's `src/index.ts` as a child process for end-to-end tests.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@pushtech/testing';

export interface RunningService {
  url: string;
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** Starts `entry` (relative to the repository) with `env` (must set PORT) and waits for its /readyz. */
export async function startService(entry: string, env: Record<string, string>): Promise<RunningService> {
  const child = spawn(process.execPath, [entry], { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${env.PORT}`;
  const exited = once(child, 'exit');
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
    return (await fetch(`${url}/readyz`)).ok ? true : undefined;
  }, `${entry} to be ready`, 60_000, 100);
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The topics, groups and database of one end-to-end run (uniqueName each). */
export interface MatchingNames {
  db: string;
  listings: string;
  matches: string;
  users: string;
  requests: string;
  responses: string;
  projector: string;
  bridge: string;
  notifier: string;
  matcher: string;
}

export interface MatchingPipeline {
  storage: RunningService;
  bridge: RunningService;
  notifier: RunningService;
  matcher: RunningService;
}

/**
 * Storage, then the notify bridge, the notifier (toward the OneSignal stand-in at `onesignal.apiRoot`)
 * and the matcher: what turns listings into matches and pushes.
 */
export async function startMatchingPipeline(options: {
  kafkaBrokers: string[];
  mongoUrl: string;
  names: MatchingNames;
  jwtSecret: string;
  onesignal: { apiRoot: string; appId: string; apiKey: string };
}): Promise<MatchingPipeline> {
  const { names, onesignal } = options;
  const kafka = { KAFKA_BROKERS: options.kafkaBrokers.join(',') };
  const mongo = { MONGO_URL: options.mongoUrl, MONGO_DB: names.db };
  const storage = await startService('services/storage/src/index.ts', {
    ...kafka, ...mongo, PORT: String(await freePort()), JWT_SECRET: options.jwtSecret,
    LISTINGS_TOPIC: names.listings, MATCHES_TOPIC: names.matches, USERS_TOPIC: names.users, PROJECTOR_GROUP: names.projector,
  });
  const [bridge, notifier, matcher] = await Promise.all([
    startService('consumers/notify-bridge/src/index.ts', {
      ...kafka, ...mongo, PORT: String(await freePort()),
      MATCHES_TOPIC: names.matches, REQUESTS_TOPIC: names.requests, RESPONSE_TOPIC: names.responses, BRIDGE_GROUP: names.bridge, PAIR_WINDOW_S: '3600',
      USERS_TOPIC: names.users, PROJECTOR_GROUP: names.projector,
    }),
    startService('services/notifier/src/index.ts', {
      ...kafka, ...mongo, PORT: String(await freePort()), REQUESTS_TOPIC: names.requests, NOTIFIER_GROUP: names.notifier,
      ONESIGNAL_API_ROOT: onesignal.apiRoot, ONESIGNAL_APP_ID: onesignal.appId, ONESIGNAL_API_KEY: onesignal.apiKey, ONESIGNAL_CLIENT: 'fetch', ONESIGNAL_AUTH_SCHEME: 'Key',
    }),
    startService('consumers/matcher/src/service/main.ts', {
      ...kafka, ...mongo, PORT: String(await freePort()),
      LISTINGS_TOPIC: names.listings, MATCHES_TOPIC: names.matches, MATCHER_GROUP: names.matcher, PROJECTOR_GROUP: names.projector,
    }),
  ]);
  return { storage, bridge, notifier, matcher };
}
