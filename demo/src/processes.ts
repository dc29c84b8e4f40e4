// Runs the services of the demo as child processes, their log lines prefixed
// with the service name, and stops them all when the demo ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
}

const running: ServiceProcess[] = [];

export function startService(name: string, entry: string, env: Record<string, string>, options: { quiet?: boolean } = {}): ServiceProcess {
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (!options.quiet) process.stderr.write(`[${name}] ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`[${name}] exited (${signal ?? code})\n`);
  });
  const service = { name, child };
  running.push(service);
  return service;
}

let stopping = false;

export async function stopAll(): Promise<void> {
  stopping = true;
  await Promise.all(running.map(({ child }) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  })));
}
