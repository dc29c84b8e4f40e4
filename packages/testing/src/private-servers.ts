/**
 * Private servers for tests that stop and restart a dependency: a second Kafka
 * or Redis with its own temp dir and free ports, so the shared local stack is
 * never disturbed. Each one keeps its data across stop() / start().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackAddresses, waitFor } from './index.ts';

export interface PrivateServer {
  /** Kafka: `127.0.0.1:<port>`; Redis: `redis://127.0.0.1:<port>`. Stays the same across stop() / start(). */
  address: string;
  /** Stops the server (SIGTERM, or SIGKILL to simulate a crash); its data stays. */
  stop(options?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it answers. */
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  close(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

const STACK_SCRIPT = fileURLToPath(new URL('../../../scripts/stack.sh', import.meta.url));

/** `count` ports from `first` on, where nobody listens now: the ports of a private Kafka of several nodes. */
async function freePortRun(count: number): Promise<number> {
  const listens = (port: number) => new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 30_000);
    let free = true;
    for (let port = first; free && port < first + count; port++) free = await listens(port);
    if (free) return first;
  }
  throw new Error(`no run of ${count} free ports found`);
}

/** A private Kafka of several nodes: each can be stopped (or killed) and started again alone. */
export interface PrivateKafka extends PrivateServer {
  /** Every node's `127.0.0.1:<port>`; `address` lists them all, comma-separated. */
  addresses: string[];
  /** Stops node `n` (1-based) alone, SIGKILL by default (a crash); its data stays. */
  stopNode(n: number, options?: { signal?: 'SIGTERM' | 'SIGKILL' }): Promise<void>;
}

/**
 * A Kafka (KRaft) started by `scripts/stack.sh` in its own stack dir and ports: one node, or
 * `brokers` nodes (`up --brokers N`: each a broker and a voter of the quorum, every topic on every
 * node, min.insync.replicas N-1); REDIS_URL and MONGO_URL are set so the script starts only Kafka.
 * The first start formats the storage and takes 5–15 s a node.
 */
export async function startPrivateKafka(options: { brokers?: number } = {}): Promise<PrivateKafka> {
  const brokers = options.brokers ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'pushtech-kafka-'));
  // Node n listens on port + 2(n-1) and its controller on controllerPort + 2(n-1) (stack.sh).
  const [port, controllerPort] = brokers === 1 ? [await freePort(), await freePort()] : await freePortRun(2 * brokers).then((first) => [first, first + 1]);
  const addresses = Array.from({ length: brokers }, (_, n) => `127.0.0.1:${port! + 2 * n}`);
  const main = stackAddresses();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PUSHTECH_STACK_DIR: dir,
    PUSHTECH_KAFKA_PORT: String(port),
    PUSHTECH_KAFKA_CONTROLLER_PORT: String(controllerPort),
    REDIS_URL: main.redisUrl,
    MONGO_URL: main.mongoUrl,
  };
  delete env.KAFKA_BROKERS; // set, it would make the script treat Kafka as external

  const stack = async (...args: string[]) => {
    const child = spawn('bash', [STACK_SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk) => { output += chunk; });
    child.stderr!.on('data', (chunk) => { output += chunk; });
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`stack.sh ${args.join(' ')} exited ${code}:\n${output}`);
  };

  let running = false;
  // If the test process ends without close(), do not leave a broker behind.
  const onExit = () => {
    if (running) spawnSync('bash', [STACK_SCRIPT, 'down'], { env, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const server: PrivateKafka = {
    address: addresses.join(','),
    addresses,
    async start() {
      running = true;
      await stack('up', ...(brokers === 1 ? [] : ['--brokers', String(brokers)]));
    },
    async stop() {
      // stack.sh sends SIGTERM and waits, with SIGKILL after 15 s.
      await stack('down');
      running = false;
    },
    async stopNode(n, { signal = 'SIGKILL' } = {}) {
      const name = n === 1 ? 'kafka' : `kafka-${n}`;
      const pid = Number(readFileSync(join(dir, name, `${name}.pid`), 'utf8'));
      process.kill(pid, signal);
      await waitFor(() => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      }, `${name} (pid ${pid}) to exit`, 30_000);
    },
    async close() {
      process.removeListener('exit', onExit);
      await stack('down', '--wipe');
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // First start: formats the storage. A failed format (stack.sh draws a random cluster id, and
  // one that starts with "-" is taken for an option) is wiped and tried again.
  for (let attempt = 1; ; attempt++) {
    try {
      await server.start();
      return server;
    } catch (err) {
      await stack('down', '--wipe').catch(() => {});
      if (attempt === 3) {
        await server.close();
        throw err;
      }
    }
  }
}

/** True when a Redis server on `port` answers PING (not while it is still loading its AOF). */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port, timeout: 1000 });
    let answer = '';
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk;
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.startsWith('+PONG'));
      }
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
  });
}

/** A `redis-server` with append-only persistence (fsync every second) in its own temp dir. */
export async function startPrivateRedis(): Promise<PrivateServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pushtech-redis-'));
  const port = await freePort();
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no',
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--logfile', join(dir, 'redis.log'),
  ];
  let child: ChildProcess | undefined;

  const onExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const server: PrivateServer = {
    address: `redis://127.0.0.1:${port}`,
    async start() {
      if (child) return;
      const started = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
      child = started;
      started.once('exit', () => { if (child === started) child = undefined; });
      await waitFor(async () => (child === undefined ? Promise.reject(new Error(`redis-server exited; see ${dir}/redis.log`)) : (await redisAnswers(port)) || undefined),
        `private redis on port ${port}`, 15_000);
    },
    async stop(options = {}) {
      const stopping = child;
      if (!stopping) return;
      const exited = once(stopping, 'exit');
      stopping.kill(options.signal ?? 'SIGTERM');
      await exited;
    },
    async close() {
      process.removeListener('exit', onExit);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
