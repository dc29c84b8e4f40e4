// The deployment files cannot be run here (no Docker engine, no cluster), so
// they are checked against the code: every entry point exists, every variable
// set is one the service reads, ports and routes point at real services.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { accountsConfig } from '@pushtech/accounts';
import { runtimeConfig, serviceConfig } from '@pushtech/service';
import { STOP_GRACE_MS } from '../services/kafkastore/src/kafkastore.ts';
import { imageserverConfigSpec } from '../services/imageserver/src/config.ts';
import { BATCH_MAX_BYTES } from '../services/tracker/src/event-rules.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The imageserver's default MAX_UPLOAD_BYTES. */
const IMAGE_UPLOAD_MAX_BYTES = imageserverConfigSpec.MAX_UPLOAD_BYTES.read('MAX_UPLOAD_BYTES', undefined);
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Every `.ts` source of the service an entry file belongs to, concatenated. */
function serviceSource(entry: string): string {
  const srcDir = join(root, entry.slice(0, entry.indexOf('/src/') + 4));
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.includes('.spec.'));
  return files.map((f) => readFileSync(join(srcDir, f), 'utf8')).join('\n');
}

// Shared addresses every container gets; a service may ignore some of them.
const SHARED = new Set(['KAFKA_BROKERS', 'MONGO_URL', 'LOG_LEVEL']);

// What `serviceConfig` of @pushtech/service reads for every service that spreads it into its config,
// and what its runtime reads for every service (`runtimeConfig`).
const SERVICE_CONFIG = new Set(Object.keys(serviceConfig({ port: 1 })));
const RUNTIME_CONFIG = new Set(Object.keys(runtimeConfig));
// What @pushtech/accounts reads for the service that spreads `accountsConfig()` (the website).
const ACCOUNTS_CONFIG = new Set(Object.keys(accountsConfig()));

function expectServiceReads(entry: string, variables: string[]) {
  const source = serviceSource(entry);
  const reads = (v: string) => SHARED.has(v) || source.includes(v) || (SERVICE_CONFIG.has(v) && source.includes('serviceConfig('))
    || (RUNTIME_CONFIG.has(v) && source.includes('defineService(')) || (ACCOUNTS_CONFIG.has(v) && source.includes('accountsConfig('));
  const unknown = variables.filter((v) => !reads(v));
  expect(unknown, `${entry} does not read`).toEqual([]);
}

/** The value after `--name` in a redis-server command line. */
function redisSetting(args: string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? undefined : args[at + 1];
}

const UNITS: Record<string, number> = { mb: 2 ** 20, gb: 2 ** 30, Mi: 2 ** 20, Gi: 2 ** 30, k: 2 ** 10, m: 2 ** 20 };

/** A size in bytes: Redis's `768mb`, Kubernetes's `1Gi`, nginx's `2m`. */
function bytes(size: string | undefined): number {
  const match = /^(\d+)([a-zA-Z]+)$/.exec(size ?? '');
  const unit = match ? UNITS[match[2]!] : undefined;
  return unit === undefined ? Number.NaN : Number(match![1]) * unit;
}

describe('docker-compose', () => {
  const compose = parse(read('docker-compose/docker-compose.yml'), { merge: true }) as {
    services: Record<string, { command?: string[]; environment?: Record<string, unknown>; image?: string; build?: { context: string; dockerfile: string } }>;
  };
  const ours = Object.entries(compose.services).filter(([, s]) => s.command?.[0] === 'node');

  it('runs every service and consumer from the project image', () => {
    expect(ours.map(([name]) => name).sort()).toEqual(['imageserver', 'kafidx', 'kafkastore', 'matcher', 'mover', 'notifier', 'notify-bridge', 'offerserver', 'stats', 'storage', 'tracker', 'website']);
    for (const [, service] of ours) {
      expect(service.image).toBe('pushtech:latest');
      expect(existsSync(join(root, 'docker-compose', service.build!.context, service.build!.dockerfile))).toBe(true);
    }
  });

  it('each entry point exists and each variable set is one the service reads', () => {
    for (const [name, service] of ours) {
      const entry = service.command![1]!;
      expect(existsSync(join(root, entry)), `${name}: ${entry}`).toBe(true);
      expectServiceReads(entry, Object.keys(service.environment ?? {}));
    }
  });

  it("the tracker's Redis refuses writes when full instead of evicting events", () => {
    const command = compose.services['tracker-redis']!.command as unknown as string[];
    expect(redisSetting(command, 'maxmemory-policy')).toBe('noeviction');
    expect(bytes(redisSetting(command, 'maxmemory'))).toBeGreaterThan(0);
  });

  /** `block`'s client_max_body_size, and the JSON body nginx's named location `@name` answers. */
  function nginxBodyLimit(block: string, name: string) {
    const nginx = read('docker-compose/nginx.conf');
    expect(block).toMatch(new RegExp(`error_page 413 = @${name};`));
    const answer = new RegExp(`location @${name} \\{[^}]*default_type application/json;\\s*return 413 '([^']+)';`).exec(nginx)?.[1];
    return { limit: bytes(/client_max_body_size (\w+);/.exec(block)?.[1]), answer: JSON.parse(answer!) as unknown };
  }
  const tooLarge = (limit: number) => ({ error: 'body_too_large', errors: [{ field: 'body', rule: `must be at most ${limit} bytes` }] });

  it('nginx lets the services answer an oversized body with their own JSON 413, and answers JSON beyond', () => {
    const { limit, answer } = nginxBodyLimit(read('docker-compose/nginx.conf'), 'body_too_large');
    expect(limit).toBeGreaterThan(BATCH_MAX_BYTES);
    expect(answer).toEqual(tooLarge(limit));
  });

  it("nginx lets the imageserver answer an upload over its MAX_UPLOAD_BYTES with its own JSON 413, and answers JSON beyond", () => {
    const images = /location \/images \{([^}]*)\}/.exec(read('docker-compose/nginx.conf'))?.[1] ?? '';
    const { limit, answer } = nginxBodyLimit(images, 'image_too_large');
    expect(limit).toBeGreaterThan(IMAGE_UPLOAD_MAX_BYTES);
    expect(answer).toEqual(tooLarge(limit));
  });

  it('nginx routes to services on the ports they listen on', () => {
    const nginx = read('docker-compose/nginx.conf');
    const upstreams = [...nginx.matchAll(/upstream (\w+)\s+\{ server (\w+):(\d+)/g)];
    expect(upstreams.length).toBeGreaterThanOrEqual(3);
    // nginx.conf routes sign-in to the website before the website's own compose service exists.
    const comingWith = (host: string) => host === 'website' && !existsSync(join(root, 'services/website/src/index.ts'));
    for (const [, , host, port] of upstreams) {
      if (comingWith(host!)) continue;
      expect(compose.services[host!]?.environment?.PORT, host).toBe(Number(port));
    }
    for (const [, upstream] of nginx.matchAll(/proxy_pass http:\/\/(\w+)/g)) {
      expect(upstreams.map((u) => u[1])).toContain(upstream);
    }
  });
});

describe('kubernetes', () => {
  const kustomization = parse(read('kubernetes/kustomization.yaml')) as { resources: string[] };
  const docs = kustomization.resources.flatMap((file) => parseAllDocuments(read(`kubernetes/${file}`)).map((d) => d.toJS() as Record<string, any>));
  const workloads = docs.filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet');
  const services = docs.filter((d) => d.kind === 'Service');
  const trackerPod = () => workloads.find((w) => w.metadata.name === 'tracker')!.spec.template.spec;
  const trackerContainer = (name: string) => trackerPod().containers.find((c: { name: string }) => c.name === name);

  it('kustomization lists every manifest', () => {
    const files = readdirSync(join(root, 'kubernetes')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(docs.every((d) => typeof d.apiVersion === 'string' && typeof d.kind === 'string' && d.metadata?.name)).toBe(true);
  });

  it('each container runs an entry point that exists, with variables it reads and health probes', () => {
    for (const workload of workloads) {
      expect(workload.spec.selector.matchLabels).toEqual(workload.spec.template.metadata.labels);
      for (const container of workload.spec.template.spec.containers) {
        if (container.image !== 'pushtech:latest') continue;
        const entry = container.command[1];
        expect(existsSync(join(root, entry)), entry).toBe(true);
        expectServiceReads(entry, (container.env ?? []).map((e: { name: string }) => e.name));
        if (!(workload.metadata.name === 'tracker' && container.name === 'kafkastore')) {
          expect(container.readinessProbe.httpGet.path).toBe('/readyz');
        }
        expect(container.livenessProbe.httpGet.path).toBe('/healthz');
        const port = (container.env as { name: string; value?: string }[]).find((e) => e.name === 'PORT')?.value;
        expect(container.ports.map((p: { containerPort: number }) => String(p.containerPort))).toContain(port);
      }
    }
  });

  it('services select a workload', () => {
    for (const service of services) {
      expect(workloads.some((w) => w.spec.template.metadata.labels.app === service.spec.selector.app), service.metadata.name).toBe(true);
    }
  });

  it('a service that must run alone never runs twice, not even during a rollout', () => {
    // Their READMEs say why: stats counts only the partitions it holds, and the notifier's rate limit is per process.
    // The imageserver's: its volume is ReadWriteOnce.
    for (const name of ['stats', 'notifier', 'imageserver']) {
      const deployment = workloads.find((w) => w.kind === 'Deployment' && w.metadata.name === name);
      expect(deployment?.spec.replicas, name).toBe(1);
      // The default RollingUpdate starts the new pod before the old one stops.
      expect(deployment?.spec.strategy?.type, name).toBe('Recreate');
    }
  });

  it('a Kafka outage leaves the trackers in rotation: the tracker and its Redis decide the pod is ready, not its kafkastore', () => {
    const containers = trackerPod().containers as { name: string; readinessProbe?: unknown }[];
    // A pod is ready only when every container with a readiness probe is; the kafkastore's /readyz fails while Kafka is away.
    expect(containers.filter((c) => c.readinessProbe !== undefined).map((c) => c.name).sort()).toEqual(['redis', 'tracker']);
  });

  it('a tracker pod going away leaves nothing in its Redis: its kafkastore stops after the tracker, with time to drain', () => {
    const [sleep, seconds] = trackerContainer('kafkastore').lifecycle.preStop.exec.command;
    expect(sleep).toBe('sleep');
    // The tracker takes events for STOP_DRAIN_MS after its SIGTERM, then up to a second more on connections
    // accepted just before its port closed (packages/service README): the kafkastore's SIGTERM comes after.
    const trackerDrainMs = Number(trackerContainer('tracker').env.find((e: { name: string }) => e.name === 'STOP_DRAIN_MS')?.value ?? 0);
    expect(Number(seconds)).toBeGreaterThan(trackerDrainMs / 1000 + 1);
    // preStop, then the kafkastore's drain on SIGTERM, within the pod's grace period.
    expect(Number(seconds) + STOP_GRACE_MS / 1000).toBeLessThan(trackerPod().terminationGracePeriodSeconds);
  });

  it("a tracker's Redis refuses writes when full instead of evicting events or outgrowing its container", () => {
    const redis = trackerContainer('redis');
    expect(redisSetting(redis.args, 'maxmemory-policy')).toBe('noeviction');
    expect(bytes(redisSetting(redis.args, 'maxmemory'))).toBeLessThan(0.8 * bytes(redis.resources.limits.memory));
  });

  it("the edge runs nginx.conf with the certificate and the maintenance flag where it reads them, and its upstreams are the cluster's services", () => {
    const nginx = read('docker-compose/nginx.conf');
    expect(read('docker-compose/edge.Dockerfile')).toContain('COPY docker-compose/nginx.conf /etc/nginx/nginx.conf');
    const pod = workloads.find((w) => w.metadata.name === 'edge')!.spec.template.spec;
    expect(pod.containers[0].image).toBe('pushtech-edge:latest');
    const mountOf = (volume: (v: Record<string, any>) => boolean) => pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === pod.volumes.find(volume)?.name)?.mountPath;
    expect(nginx).toContain(`ssl_certificate ${mountOf((v) => v.secret?.secretName === 'pushtech-tls')}/tls.crt;`);
    const maintenance = pod.volumes.find((v: Record<string, any>) => v.configMap)?.configMap.name;
    expect(docs.some((d) => d.kind === 'ConfigMap' && d.metadata.name === maintenance)).toBe(true);
    expect(nginx).toContain(`if (-f ${mountOf((v) => v.configMap?.name === maintenance)}/on)`);
    const edge = services.find((s) => s.metadata.name === 'edge')!;
    expect(edge.spec.externalTrafficPolicy).toBe('Local'); // the rate limits count client addresses
    for (const [, , host, port] of nginx.matchAll(/upstream (\w+)\s+\{ server (\w+):(\d+)/g)) {
      if (host === 'website' && !existsSync(join(root, 'services/website/src/index.ts'))) continue;
      expect(services.find((s) => s.metadata.name === host)?.spec.ports.map((p: { port: number }) => p.port), host).toContain(Number(port));
    }
  });

  it("the imageserver's images live on its volume, writable by the image's user", () => {
    const pod = workloads.find((w) => w.metadata.name === 'imageserver')!.spec.template.spec;
    const container = pod.containers[0];
    const imagesDir = container.env.find((e: { name: string }) => e.name === 'IMAGES_DIR').value;
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === imagesDir);
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount?.name);
    expect(docs.some((d) => d.kind === 'PersistentVolumeClaim' && d.metadata.name === volume?.persistentVolumeClaim?.claimName)).toBe(true);
    expect(pod.securityContext.fsGroup).toBe(1000); // user node of node:24-slim
    expect(read('Dockerfile')).toContain(`chown node:node ${imagesDir}`);
  });

  it('the Dockerfile installs production dependencies on Node 24', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^FROM node:24/m);
    expect(dockerfile).toContain('npm ci --omit=dev');
  });
});
