// Runs a service's `src/index.ts` as a child process for end-to-end tests.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@pushtech/testing';

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
