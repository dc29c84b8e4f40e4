// `stack.sh up --brokers N`, the parts that need no server: the option's rule, a stack dir keeping
// the count it was made with, and `env` naming every node. (Three brokers running, and one killed:
// packages/kafka/src/broker-loss.cluster.spec.ts.)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('stack.sh', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stack(args: string[], prepare: (dir: string) => void = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pushtech-stack-args-'));
  dirs.push(dir);
  prepare(dir);
  // External servers everywhere but Kafka, and ports nobody uses: nothing can start by mistake.
  const env = { ...process.env, PUSHTECH_STACK_DIR: dir, PUSHTECH_KAFKA_PORT: '1092', PUSHTECH_KAFKA_CONTROLLER_PORT: '1093', REDIS_URL: 'redis://127.0.0.1:1', MONGO_URL: 'mongodb://127.0.0.1:1' };
  delete (env as Record<string, string | undefined>).KAFKA_BROKERS;
  const run = spawnSync('bash', [script, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

describe('stack.sh --brokers', () => {
  it.each([['0'], ['6'], ['three']])('refuses --brokers %s, starting nothing', (n) => {
    const { code, out } = stack(['up', '--brokers', n]);
    expect(code).toBe(1);
    expect(out).toContain('--brokers must be a number from 1 to 5');
    expect(out).not.toContain('starting');
  });

  it('a stack dir whose Kafka was formatted as one node refuses three', () => {
    const { code, out } = stack(['up', '--brokers', '3'], (dir) => {
      mkdirSync(join(dir, 'kafka', 'data'), { recursive: true });
      writeFileSync(join(dir, 'kafka', 'data', 'meta.properties'), 'node.id=1\n');
    });
    expect(code).toBe(1);
    expect(out).toContain('holds a Kafka of 1 node(s), not 3');
  });

  it('env names every node of a three-node stack dir, on the ports two apart', () => {
    const { code, out } = stack(['env'], (dir) => writeFileSync(join(dir, 'kafka.nodes'), '3\n'));
    expect(code).toBe(0);
    expect(out).toContain('export KAFKA_BROKERS=127.0.0.1:1092\\,127.0.0.1:1094\\,127.0.0.1:1096');
  });

  it('status lists each node', () => {
    const { out } = stack(['status'], (dir) => writeFileSync(join(dir, 'kafka.nodes'), '3\n'));
    expect(out.split('\n').filter((l) => /^kafka(-\d)?\s+stopped/.test(l))).toHaveLength(3);
  });
});
