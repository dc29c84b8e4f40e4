// A request that is being retried survives a restart of the notifier: it runs as a
// child process (src/index.ts), is stopped (SIGTERM, or killed with SIGKILL) while the
// stand-in answers 500s, and once started again sends the request and answers it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '@pushtech/onesignal-standin';
import { freePort, waitFor } from '@pushtech/testing';
import { freshNames, notifierEnv, startBench, STANDIN_API_KEY, STANDIN_APP_ID, type Bench } from './fixtures/harness.ts';
import { pushRequest } from './fixtures/requests.ts';
import type { NotifyResponse } from '@pushtech/contracts';
import { RETRIES } from './retry-store.ts';

const entryPoint = fileURLToPath(new URL('./index.ts', import.meta.url));
let standin: Standin;
const benches: Bench[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  standin = await startStandin({ appId: STANDIN_APP_ID, apiKey: STANDIN_API_KEY });
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(benches.splice(0).map((b) => b.close()));
});
afterAll(async () => {
  await standin.close();
});

function notifierProcess(env: Record<string, string>): ChildProcess {
  let stderr = '';
  const child = spawn(process.execPath, [entryPoint], { env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`notifier exited ${code}: ${stderr}\n`);
  });
  children.push(child);
  return child;
}

const callsFor = (user: string) => standin.calls.filter((c) => (c.body as { include_aliases: { external_id: string[] } }).include_aliases.external_id.includes(user));

describe.each(['SIGTERM', 'SIGKILL'] as const)('a notifier stopped with %s while a request is being retried', (signal) => {
  it('sends and answers the request once started again', async () => {
    const bench = await startBench(freshNames('notifierrs'));
    benches.push(bench);
    const env = notifierEnv(bench.names, standin, { ONESIGNAL_CLIENT: 'fetch', RETRY_BASE_MS: '50', RETRY_MAX_MS: '200', RETRY_MAX_ATTEMPTS: '1000', HOST: '127.0.0.1', PORT: String(await freePort()) });
    const user = `restart-${signal}`;
    standin.script({ statuses: Array(10_000).fill(500), forUser: user });
    const request = pushRequest({ responseTopic: bench.names.responseTopic, userIds: [user], style: { '5xx': { operation: 'retry' }, '2xx': { operation: 'success' } } });

    const first = notifierProcess(env);
    await bench.produce([request]);
    await waitFor(() => (callsFor(user).length >= 3 ? true : undefined), 'three attempts, each answered 500', 60_000);
    const exited = once(first, 'exit');
    first.kill(signal);
    const [code] = await exited;
    if (signal === 'SIGTERM') expect(code).toBe(0);
    const stored = await bench.db.collection(RETRIES).findOne({ _id: request.uuid as never });
    expect(stored).toMatchObject({ responseTopic: bench.names.responseTopic, lastError: 'status 500' });
    // SIGTERM lets the attempt under way finish and store; SIGKILL may cut the last store short.
    expect(stored!.attempts).toBeGreaterThanOrEqual(signal === 'SIGTERM' ? 3 : 1);
    await bench.responses.caughtUp(); // the marker: the process is gone, so whatever it answered is on the topic and read
    expect(bench.responses.values<NotifyResponse>().filter((r) => r.uuid === request.uuid)).toEqual([]);

    standin.clearScripts(); // OneSignal is back: 200
    const attemptsBefore = callsFor(user).length;
    const second = notifierProcess(env);
    expect(await bench.responseFor(request.uuid, 60_000)).toMatchObject({ type: 'success', uuid: request.uuid });
    expect(callsFor(user).length).toBeGreaterThan(attemptsBefore);
    expect(callsFor(user).at(-1)!.status).toBe(200);
    await waitFor(async () => (await bench.db.collection(RETRIES).countDocuments()) === 0 || undefined, 'the retry store emptied');
    expect(bench.responses.values<NotifyResponse>().filter((r) => r.uuid === request.uuid).map((r) => r.type)).toEqual(['success']);

    const stopped = once(second, 'exit');
    second.kill('SIGTERM');
    expect((await stopped)[0]).toBe(0);
  }, 120_000);
});
