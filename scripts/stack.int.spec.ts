// Integration test of scripts/stack.sh: runs a second, private instance of the local stack (own
// data dir in a temp dir, own free ports) so the main stack that other tests use is not touched.
// The install cache (PUSHTECH_CACHE_DIR, default ~/.cache/pushtech) is shared, so only a machine's
// very first run pays for the downloads and the FerretDB build.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, createConnection, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), 'stack.sh');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runStack(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Distinct ports that are free right now (listen on port 0 at once, then release them). */
async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    servers.push(server);
    ports.push(address.port);
  }
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** Sends one line to 127.0.0.1:port and resolves with the first reply (or '' on error). */
function ask(port: number, line: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port, timeout: 3000 });
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(line));
    socket.once('data', (d: string) => {
      socket.destroy();
      resolve(d);
    });
    socket.once('error', () => resolve(''));
    socket.once('timeout', () => {
      socket.destroy();
      resolve('');
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe('scripts/stack.sh (private instance)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushtech-stack-test-'));
  let env: NodeJS.ProcessEnv = {};
  let kafkaPort = 0;
  let controllerPort = 0;
  let redisPort = 0;
  let mongoPort = 0;

  beforeAll(async () => {
    [kafkaPort, controllerPort, redisPort, mongoPort] = (await freePorts(4)) as [number, number, number, number];
    env = {
      ...process.env,
      PUSHTECH_STACK_DIR: dir,
      PUSHTECH_KAFKA_PORT: String(kafkaPort),
      PUSHTECH_KAFKA_CONTROLLER_PORT: String(controllerPort),
      PUSHTECH_REDIS_PORT: String(redisPort),
      PUSHTECH_MONGO_PORT: String(mongoPort),
    };
    // Servers given by the environment would be "external": this instance starts all three.
    delete env.KAFKA_BROKERS;
    delete env.REDIS_URL;
    delete env.MONGO_URL;
  });

  afterAll(async () => {
    await runStack(env, ['down', '--wipe'], 60_000);
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  it('fails fast, with one line naming the port, when a foreign process holds the redis port', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(redisPort, '127.0.0.1', () => resolve()));
    try {
      const run = await runStack(env, ['up'], 60_000);
      expect(run.code).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`port ${redisPort} (redis) is in use by another process, not Pushtech's redis`);
      expect(lines[0]).toContain('REDIS_URL');
      expect(run.stdout).not.toContain('starting'); // fast: refused before starting (and waiting for) anything
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    // Nothing was started.
    const status = await runStack(env, ['status'], 30_000);
    expect(status.code).toBe(3);
    expect(status.stdout).not.toMatch(/running/);
  }, 60_000);

  it('up starts Kafka, Redis and FerretDB and waits until they are ready', async () => {
    const run = await runStack(env, ['up'], 280_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`kafka ready on 127.0.0.1:${kafkaPort}`);
    expect(run.stdout).toContain(`redis ready on 127.0.0.1:${redisPort}`);
    expect(run.stdout).toContain(`ferretdb ready on 127.0.0.1:${mongoPort}`);
    expect(await ask(redisPort, 'PING\r\n')).toBe('+PONG\r\n');
    expect(await listening(kafkaPort)).toBe(true);
    expect(await listening(controllerPort)).toBe(true);
    expect(await listening(mongoPort)).toBe(true);
  }, 300_000);

  it('a second up is a quick no-op that reports the servers already running', async () => {
    const run = await runStack(env, ['up'], 60_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout.match(/already running/g)).toHaveLength(3);
    expect(run.stdout).not.toContain('starting');
  }, 60_000);

  it('status lists the three servers running and exits 0', async () => {
    const run = await runStack(env, ['status'], 30_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^kafka\\s+running\\s+pid \\d+\\s+127\\.0\\.0\\.1:${kafkaPort}$`));
    expect(lines[1]).toMatch(new RegExp(`^redis\\s+running\\s+pid \\d+\\s+127\\.0\\.0\\.1:${redisPort}$`));
    expect(lines[2]).toMatch(new RegExp(`^ferretdb\\s+running\\s+pid \\d+\\s+127\\.0\\.0\\.1:${mongoPort}$`));
  }, 30_000);

  it('env prints export lines for this instance, and keeps values given by the environment', async () => {
    const run = await runStack(env, ['env'], 30_000);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `export KAFKA_BROKERS=127.0.0.1:${kafkaPort}\n` +
        `export REDIS_URL=redis://127.0.0.1:${redisPort}\n` +
        `export MONGO_URL=mongodb://127.0.0.1:${mongoPort}\n`,
    );
    const external = await runStack({ ...env, REDIS_URL: 'redis://redis.example:6379' }, ['status'], 30_000);
    expect(external.code).toBe(0);
    expect(external.stdout).toMatch(/^redis\s+external \(REDIS_URL=redis:\/\/redis\.example:6379\)$/m);
  }, 30_000);

  it('down stops them; status then exits 3; a second down is a no-op', async () => {
    const run = await runStack(env, ['down'], 60_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const name of ['kafka', 'redis', 'ferretdb']) expect(run.stdout).toContain(`${name} stopped`);
    const status = await runStack(env, ['status'], 30_000);
    expect(status.code).toBe(3);
    expect(status.stdout.match(/stopped/g)).toHaveLength(3);
    expect(await listening(kafkaPort)).toBe(false);
    expect(await listening(redisPort)).toBe(false);
    expect(await listening(mongoPort)).toBe(false);
    const again = await runStack(env, ['down'], 30_000);
    expect(again.code).toBe(0);
  }, 90_000);

  // A broker with thousands of partitions writes over 20 MB of log while it starts: log4j rotates
  // server.log under the readiness check, which then looked for "Kafka Server started" past the end.
  it('up finds the broker ready when its log rotates during start-up', async () => {
    const log = join(dir, 'kafka', 'logs', 'server.log');
    writeFileSync(log, `${'x'.repeat(1023)}\n`.repeat(20 * 1024 - 1));
    const run = await runStack(env, ['up'], 280_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`kafka ready on 127.0.0.1:${kafkaPort}`);
    expect(statSync(log).size).toBeLessThan(20 * 1024 * 1024 - 1024);
    expect((await runStack(env, ['down'], 60_000)).code).toBe(0);
  }, 300_000);
});
