// The tracker's XADD connection on a real Redis: one write per event-loop turn,
// answers in order, Redis's refusals, a Redis that goes away and comes back,
// one that hangs, and AUTH.
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_FIELD } from '@pushtech/contracts';
import { createLogger } from '@pushtech/logging';
import { createRedis, type Redis } from '@pushtech/redis';
import { pendingAfter, stackAddresses, startPrivateRedis, uniqueName, waitFor, type PrivateServer } from '@pushtech/testing';
import { connectXadd, type XaddConnection } from './xadd-connection.ts';

const logger = createLogger('xadd-test', 'silent');
const open: XaddConnection[] = [];
const connect = (url: string, stream: string, onFlush?: (entries: number) => void, timeoutMs = 1_000, name = 'xadd-test', tls?: { ca: Buffer }) => {
  const connection = connectXadd({ url, name, stream, field: STREAM_FIELD, timeoutMs, logger, onFlush, tls });
  open.push(connection);
  return connection;
};

afterAll(() => {
  for (const connection of open) connection.close();
});

const clientList = async (redis: Redis) => ((await redis.call('CLIENT', 'LIST')) as string).split('\n');


describe('on the stack\'s Redis', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = createRedis(stackAddresses().redisUrl, { connectionName: 'xadd-test' });
    await redis.ping();
  });
  afterAll(() => redis.disconnect());

  it('the calls of one turn are one write; every entry is stored once, in call order', async () => {
    const stream = uniqueName('test:xadd:');
    const flushes: number[] = [];
    const connection = connect(stackAddresses().redisUrl, stream, (entries) => flushes.push(entries));
    expect(await connection.whenReady(5_000)).toBe(true);
    await Promise.all(Array.from({ length: 50 }, (_, i) => connection.xadd(`entry-${i} ü`)));
    await connection.xadd('next turn');
    expect(flushes).toEqual([50, 1]);
    const stored = (await redis.xrange(stream, '-', '+')).map(([, fields]) => fields);
    expect(stored).toEqual([...Array.from({ length: 50 }, (_, i) => [STREAM_FIELD, `entry-${i} ü`]), [STREAM_FIELD, 'next turn']]);
    await redis.del(stream);
  });

  it('rediss://: speaks TLS and verifies the server (a self-signed test certificate, trusted only when passed as `ca`)', async () => {
    // TLS in front of the stack's Redis: the test certificate is for 127.0.0.1 and valid until 2126.
    const cert = readFileSync(new URL('./fixtures/tls-test-cert.pem', import.meta.url));
    const key = readFileSync(new URL('./fixtures/tls-test-key.pem', import.meta.url));
    const redisPort = Number(new URL(stackAddresses().redisUrl).port);
    const proxy = createTlsServer({ cert, key }, (client) => {
      const upstream = tcpConnect({ host: '127.0.0.1', port: redisPort });
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    proxy.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `rediss://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const stream = uniqueName('test:xadd:tls:');
      const trusting = connect(url, stream, undefined, 1_000, 'xadd-test', { ca: cert });
      expect(await trusting.whenReady(5_000)).toBe(true);
      await trusting.xadd('over tls');
      expect((await redis.xrange(stream, '-', '+')).map(([, fields]) => fields)).toEqual([[STREAM_FIELD, 'over tls']]);
      const untrusting = connect(url, uniqueName('test:xadd:tls:'));
      expect(await untrusting.whenReady(500)).toBe(false); // the certificate is refused: never ready
      await expect(untrusting.xadd('never sent')).rejects.toThrow(/unreachable/);
      await redis.del(stream);
    } finally {
      proxy.close();
    }
  });

  it('closed in the turn of a call: the call fails, nothing is written', async () => {
    const stream = uniqueName('test:xadd:');
    const name = uniqueName('xadd-closing-').replaceAll(':', '-');
    const connection = connect(stackAddresses().redisUrl, stream, undefined, 1_000, name);
    await connection.whenReady(5_000);
    const call = connection.xadd('in the closing turn');
    connection.close();
    await expect(call).rejects.toThrow(/closed/);
    // The marker: Redis drops a client only once it has read (and run) all the client sent.
    await waitFor(async () => ((await clientList(redis)).some((line) => line.includes(` name=${name} `)) ? undefined : true), 'the closed connection gone from Redis');
    expect(await redis.xlen(stream)).toBe(0);
  });

  it('Redis\'s refusal fails the calls it refused', async () => {
    const key = uniqueName('test:xadd:string:');
    await redis.set(key, 'not a stream');
    const connection = connect(stackAddresses().redisUrl, key);
    await connection.whenReady(5_000);
    const results = await Promise.allSettled([connection.xadd('a'), connection.xadd('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    await redis.del(key);
  });
});

describe('on a Redis of its own', () => {
  let server: PrivateServer;
  beforeAll(async () => {
    server = await startPrivateRedis();
    await server.start();
  });
  afterAll(async () => {
    await server.close();
  });

  it('while Redis is down a call fails at once; once it is back the connection is made again', async () => {
    const stream = uniqueName('test:xadd:');
    const connection = connect(server.address, stream);
    await connection.whenReady(5_000);
    await connection.xadd('before');
    await server.stop({ signal: 'SIGKILL' });
    // At once: refused because the connection is gone, not after the 1 s answer timeout.
    const refusal = await waitFor(async () => connection.xadd('while down').then(() => undefined, (err: Error) => err.message), 'a refusal', 5_000, 50);
    expect(refusal).toMatch(/redis is unreachable|connection to redis was lost/);
    await server.start();
    await waitFor(async () => connection.xadd('after').then(() => true, () => undefined), 'a stored entry after the restart', 10_000, 100);
  });

  it('after a timeout the new connection stays: answered calls never drop it', async () => {
    const name = uniqueName('xadd-reconnect-').replaceAll(':', '-');
    const connection = connect(server.address, uniqueName('test:xadd:'), undefined, 300, name);
    await connection.whenReady(5_000);
    const admin = createRedis(server.address, { connectionName: 'xadd-test-admin' });
    await admin.call('CLIENT', 'PAUSE', '800', 'ALL');
    await expect(connection.xadd('unanswered')).rejects.toThrow(); // after 300 ms: the connection is dropped and made again
    await waitFor(async () => connection.xadd('after').then(() => true, () => undefined), 'a stored entry on the new connection', 10_000, 50);
    try {
      const clientId = async () => /id=(\d+) [^\n]* name=([^ ]+)/.exec((await admin.call('CLIENT', 'LIST') as string).split('\n').find((line: string) => line.includes(` name=${name} `)) ?? '')?.[1];
      const before = await clientId();
      expect(before).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 700)); // two timeouts
      await connection.xadd('later');
      expect(await clientId()).toBe(before);
    } finally {
      admin.disconnect();
    }
  });

  it('a Redis that does not answer: the calls fail after the timeout, then the connection recovers', async () => {
    const connection = connect(server.address, uniqueName('test:xadd:'), undefined, 500);
    await connection.whenReady(5_000);
    const admin = createRedis(server.address, { connectionName: 'xadd-test-admin' });
    try {
      // Paused far past the 500 ms: an answer from Redis would make the call succeed, not fail.
      await admin.call('CLIENT', 'PAUSE', '5000', 'ALL');
      const hung = connection.xadd('hung');
      expect(await pendingAfter(hung, 500)).toBe(true); // not failed before its 500 ms
      await expect(hung).rejects.toThrow(/did not answer within 500 ms|connection to redis was lost/);
    } finally {
      admin.disconnect();
    }
    await waitFor(async () => connection.xadd('after the pause').then(() => true, () => undefined), 'a stored entry after the pause', 10_000, 100);
  });

  it('authenticates with the URL\'s password; a wrong one fails every call', async () => {
    const admin = createRedis(server.address, { connectionName: 'xadd-test-admin' });
    await admin.config('SET', 'requirepass', 's3cret');
    try {
      const port = new URL(server.address).port;
      const good = connect(`redis://:s3cret@127.0.0.1:${port}`, uniqueName('test:xadd:'));
      await good.whenReady(5_000);
      await expect(good.xadd('with the password')).resolves.toBeUndefined();
      const bad = connect(`redis://:wrong@127.0.0.1:${port}`, uniqueName('test:xadd:'));
      await bad.whenReady(5_000);
      await expect(bad.xadd('with a wrong password')).rejects.toThrow(/NOAUTH|WRONGPASS|invalid/i);
    } finally {
      await admin.call('AUTH', 's3cret').catch(() => {});
      await admin.config('SET', 'requirepass', '').catch(() => {});
      admin.disconnect();
    }
  });
});
