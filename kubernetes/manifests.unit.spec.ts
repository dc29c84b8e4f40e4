// The Kubernetes manifests, checked offline: the base (kubernetes/) and the overlays dev and prod
// are built (kustomize.ts; compared with `kubectl kustomize` where kubectl is installed), every
// built-in object is validated against the Kubernetes API's JSON schemas (the npm package
// kubernetes-models), the operators' resources (Strimzi, MongoDB Community) structurally, and the
// rules an operator relies on are checked: probes, resources, disruption budgets, autoscalers,
// network policies, secrets only in Secrets, one KafkaTopic per topic of packages/contracts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { contracts } from '@pushtech/contracts';
import type { TopicSpec } from '@pushtech/kafka';
import { build, readKustomization, type Manifest } from './kustomize.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const OVERLAYS = ['dev', 'prod'] as const;
const builds: Record<'base' | (typeof OVERLAYS)[number], Manifest[]> = {
  base: build(root),
  dev: build(join(root, 'overlays/dev')),
  prod: build(join(root, 'overlays/prod')),
};
const all = (docs: Manifest[], kind: string) => docs.filter((d) => d.kind === kind);
const named = (docs: Manifest[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
const workloads = (docs: Manifest[]) => docs.filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet');
/** The edge's nginx.conf (docker-compose/edge.Dockerfile builds it into the image kubernetes/ingress.yaml runs). */
const nginxConf = readFileSync(join(root, '../docker-compose/nginx.conf'), 'utf8');

/** Whether a label selector (matchLabels and matchExpressions) selects a pod with these labels. */
function selects(selector: Manifest, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return byLabels && (selector.matchExpressions ?? []).every(({ key, operator, values }: Manifest) => {
    switch (operator) {
      case 'In': return values.includes(labels[key]);
      case 'NotIn': return !values.includes(labels[key]); // also a pod without the label, as Kubernetes has it
      case 'Exists': return key in labels;
      case 'DoesNotExist': return !(key in labels);
      default: throw new Error(`a selector operator this test does not know: ${operator}`);
    }
  });
}

/** The kubernetes-models class of a built-in object (`apps/v1` Deployment → kubernetes-models/apps/v1). */
async function modelOf(doc: Manifest): Promise<(new (data: unknown) => { validate(): void }) | undefined> {
  const module = (await import(/* @vite-ignore */ `kubernetes-models/${doc.apiVersion}`).catch(() => undefined)) as Record<string, new (data: unknown) => { validate(): void }> | undefined;
  return module?.[doc.kind];
}

const CUSTOM = new Set(['kafka.strimzi.io/v1beta2', 'mongodbcommunity.mongodb.com/v1']);

/** A structural check of the operators' resources: the fields their CRDs require, with the types they declare. */
function customResourceErrors(doc: Manifest): string[] {
  const errors: string[] = [];
  const need = (ok: boolean, what: string) => ok || errors.push(`${doc.kind} ${doc.metadata.name}: ${what}`);
  const isInt = (v: unknown) => Number.isInteger(v);
  need(typeof doc.metadata?.namespace === 'string', 'metadata.namespace');
  switch (doc.kind) {
    case 'Kafka':
      need(typeof doc.spec?.kafka?.version === 'string', 'spec.kafka.version (string)');
      need(Array.isArray(doc.spec?.kafka?.listeners) && doc.spec.kafka.listeners.every((l: Manifest) => typeof l.name === 'string' && isInt(l.port) && ['internal', 'route', 'loadbalancer', 'nodeport', 'ingress', 'cluster-ip'].includes(l.type) && typeof l.tls === 'boolean'), 'spec.kafka.listeners[] {name, port, type, tls}');
      need(doc.spec?.zookeeper === undefined, 'no zookeeper (KRaft)');
      break;
    case 'KafkaNodePool':
      need(isInt(doc.spec?.replicas), 'spec.replicas (integer)');
      need(Array.isArray(doc.spec?.roles) && doc.spec.roles.every((r: string) => r === 'controller' || r === 'broker'), 'spec.roles[] controller|broker');
      need(['ephemeral', 'persistent-claim', 'jbod'].includes(doc.spec?.storage?.type), 'spec.storage.type');
      need(typeof doc.metadata.labels?.['strimzi.io/cluster'] === 'string', 'label strimzi.io/cluster');
      break;
    case 'KafkaTopic':
      need(isInt(doc.spec?.partitions) && isInt(doc.spec?.replicas), 'spec.partitions, spec.replicas (integers)');
      need(typeof doc.spec?.topicName === 'string', 'spec.topicName');
      need(typeof doc.metadata.labels?.['strimzi.io/cluster'] === 'string', 'label strimzi.io/cluster');
      break;
    case 'MongoDBCommunity':
      need(isInt(doc.spec?.members), 'spec.members (integer)');
      need(doc.spec?.type === 'ReplicaSet', 'spec.type ReplicaSet');
      need(typeof doc.spec?.version === 'string', 'spec.version (string)');
      need(Array.isArray(doc.spec?.security?.authentication?.modes), 'spec.security.authentication.modes');
      need(Array.isArray(doc.spec?.users) && doc.spec.users.every((u: Manifest) => u.name && u.db && u.passwordSecretRef?.name && u.scramCredentialsSecretName && Array.isArray(u.roles)), 'spec.users[] {name, db, passwordSecretRef, scramCredentialsSecretName, roles}');
      break;
    default:
      errors.push(`${doc.apiVersion} ${doc.kind}: no check for this kind`);
  }
  return errors;
}

describe.each(['base', ...OVERLAYS] as const)('kubernetes %s', (name) => {
  const docs = builds[name];

  it('every object is valid: built-in kinds against the Kubernetes schemas, the operators\' resources structurally', async () => {
    const errors: string[] = [];
    for (const doc of docs) {
      if (CUSTOM.has(doc.apiVersion)) {
        errors.push(...customResourceErrors(doc));
        continue;
      }
      const Model = await modelOf(doc);
      if (Model === undefined) {
        errors.push(`${doc.apiVersion} ${doc.kind} ${doc.metadata?.name}: not a Kubernetes kind`);
        continue;
      }
      try {
        new Model(doc).validate();
      } catch (err) {
        errors.push(`${doc.kind} ${doc.metadata?.name}: ${(err as Error).message}`);
      }
    }
    expect(errors).toEqual([]);
  });

  it('no two objects share a kind, namespace and name', () => {
    const ids = docs.map((d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('every container has readiness (the kafkastore aside), liveness and startup probes, and resources', () => {
    const missing: string[] = [];
    for (const workload of workloads(docs)) {
      for (const c of workload.spec.template.spec.containers) {
        const where = `${workload.metadata.name}/${c.name}`;
        // The kafkastore has no readiness probe on purpose (deployment.unit.spec.ts says why).
        if (!c.readinessProbe && c.name !== 'kafkastore') missing.push(`${where}: readinessProbe`);
        if (!c.livenessProbe) missing.push(`${where}: livenessProbe`);
        if (!c.startupProbe) missing.push(`${where}: startupProbe`);
        if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) missing.push(`${where}: cpu and memory requests, a memory limit`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every Deployment and StatefulSet has a PodDisruptionBudget that selects its pods and lets a drain move one', () => {
    const budgets = all(docs, 'PodDisruptionBudget');
    for (const workload of workloads(docs)) {
      const labels = workload.spec.template.metadata.labels;
      const budget = budgets.find((b) => b.metadata.namespace === workload.metadata.namespace && Object.entries(b.spec.selector.matchLabels).every(([k, v]) => labels[k] === v));
      expect(budget, `${workload.metadata.name}'s PodDisruptionBudget`).toBeDefined();
      // minAvailable equal to the replicas, or maxUnavailable 0, would block every node drain.
      expect(budget!.spec.maxUnavailable, workload.metadata.name).toBeGreaterThanOrEqual(1);
    }
  });

  it('the tracker, storage and the website scale with an autoscaler that owns their replica count', () => {
    const scaled = all(docs, 'HorizontalPodAutoscaler');
    const names = ['tracker', 'storage', ...(workloads(docs).some((w) => w.metadata.name === 'website') ? ['website'] : [])];
    for (const name of names) {
      const hpa = scaled.find((h) => h.spec.scaleTargetRef.name === name);
      const target = workloads(docs).find((w) => w.metadata.name === name);
      expect(hpa?.spec.scaleTargetRef.kind, name).toBe(target?.kind);
      expect(hpa!.spec.minReplicas).toBeLessThanOrEqual(hpa!.spec.maxReplicas);
      // A replica count in the manifest would reset the autoscaler's on every apply.
      expect(target!.spec.replicas, `${name} sets replicas`).toBeUndefined();
      // The autoscaler's CPU utilisation is of the requests.
      expect(target!.spec.template.spec.containers.every((c: Manifest) => c.resources.requests.cpu)).toBe(true);
    }
    for (const hpa of scaled) expect(workloads(docs).some((w) => w.kind === hpa.spec.scaleTargetRef.kind && w.metadata.name === hpa.spec.scaleTargetRef.name), hpa.metadata.name).toBe(true);
  });

  it('network policies: nothing reaches the pushtech pods unless allowed; from outside only the edge, which reaches only what it routes to', () => {
    const policies = all(docs, 'NetworkPolicy').filter((p) => p.metadata.namespace === 'pushtech');
    const denyAll = policies.find((p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes.includes('Ingress') && p.spec.ingress === undefined);
    expect(denyAll, 'a default-deny policy').toBeDefined();
    const fromOutside = policies.flatMap((p) => (p.spec.ingress ?? []).flatMap((rule: Manifest) => (rule.from ?? []).filter((peer: Manifest) => peer.namespaceSelector || peer.ipBlock).map((peer: Manifest) => ({ policy: p, peer }))));
    // From other namespaces: Prometheus (metrics) only; never every namespace or an address block.
    for (const { policy, peer } of fromOutside) {
      expect(peer.ipBlock, policy.metadata.name).toBeUndefined();
      expect(peer.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name'], policy.metadata.name).toBe('monitoring');
    }
    // From anywhere (a rule without `from`): only the edge's pods, on their HTTP and HTTPS ports.
    for (const policy of policies) {
      for (const rule of policy.spec.ingress ?? []) {
        if (rule.from !== undefined) continue;
        expect(policy.spec.podSelector, policy.metadata.name).toEqual({ matchLabels: { app: 'edge' } });
        expect(rule.ports.map((p: Manifest) => p.port).sort(), policy.metadata.name).toEqual(['http', 'https']);
      }
    }
    // The edge is the one entry: no Ingress (no ingress controller is installed, nor admitted above).
    expect(all(docs, 'Ingress').map((i) => i.metadata.name)).toEqual([]);
    // The edge, the pod facing the internet, reaches exactly the services its nginx.conf routes to.
    const edgeLabels = named(docs, 'Deployment', 'edge')!.spec.template.metadata.labels;
    const admitsEdge = (policy: Manifest) => (policy.spec.ingress ?? []).some((rule: Manifest) =>
      (rule.from ?? []).some((peer: Manifest) => peer.podSelector && !peer.namespaceSelector && selects(peer.podSelector, edgeLabels)));
    const reached = workloads(docs)
      .filter((w) => w.metadata.namespace === 'pushtech' && w.metadata.name !== 'edge')
      .filter((w) => policies.some((p) => selects(p.spec.podSelector, w.spec.template.metadata.labels) && admitsEdge(p)))
      .map((w) => w.spec.template.metadata.labels.app);
    const routed = [...nginxConf.matchAll(/upstream \w+\s+\{ server (\w+):\d+/g)].map(([, host]) => named(docs, 'Service', host!)?.spec.selector.app);
    expect(reached.sort()).toEqual(routed.sort());
  });

  it('every service behind a Service drains on SIGTERM for longer than the edge keeps an idle connection, within its grace period', () => {
    // packages/service's drain: unready, and `Connection: close` on every answer, for STOP_DRAIN_MS; nginx
    // drops an idle upstream connection after keepalive_timeout, so after the drain none is left to the pod.
    const keepaliveS = Math.max(...[...nginxConf.matchAll(/upstream \w+\s+\{[^}]*keepalive_timeout (\d+)s;/g)].map(([, s]) => Number(s)));
    expect(keepaliveS).toBeGreaterThan(0);
    const drains: string[] = [];
    for (const workload of workloads(docs)) {
      const pod = workload.spec.template.spec;
      const services = all(docs, 'Service').filter((s) => s.metadata.namespace === workload.metadata.namespace && selects({ matchLabels: s.spec.selector }, workload.spec.template.metadata.labels));
      const served = new Set(services.flatMap((s) => s.spec.ports.map((p: Manifest) => p.targetPort)));
      for (const c of pod.containers) {
        // Our services (node …) with a port a Service sends to; the edge is nginx, which drains by its preStop.
        if (c.command?.[0] !== 'node' || !(c.ports ?? []).some((p: Manifest) => served.has(p.name))) continue;
        drains.push(c.name);
        const drainMs = Number((c.env ?? []).find((e: Manifest) => e.name === 'STOP_DRAIN_MS')?.value);
        expect(drainMs, `${workload.metadata.name}/${c.name} STOP_DRAIN_MS`).toBeGreaterThan(keepaliveS * 1000);
        // After the drain: the answers in flight, the service's own stop, its dependencies closed.
        expect(pod.terminationGracePeriodSeconds, workload.metadata.name).toBeGreaterThanOrEqual(drainMs / 1000 + 30);
      }
    }
    expect(drains).toEqual(expect.arrayContaining(['tracker', 'storage', 'imageserver', 'website', 'offerserver']));
  });

  it('secrets come from Secret objects: no ConfigMap holds one, and every container takes them by reference', () => {
    const secretLike = /SECRET|TOKEN|PASSWORD|API_KEY|MONGO_URL|REDIS_URL|CREDENTIAL/;
    for (const map of all(docs, 'ConfigMap')) {
      for (const [key, value] of Object.entries(map.data ?? {})) {
        expect(key, `ConfigMap ${map.metadata.name}`).not.toMatch(secretLike);
        expect(String(value), `ConfigMap ${map.metadata.name} ${key}`).not.toMatch(/:\/\/[^/\s]*:[^/\s]*@/);
      }
    }
    const pods = [...workloads(docs).map((w) => w.spec.template.spec), ...all(docs, 'CronJob').map((j) => j.spec.jobTemplate.spec.template.spec)];
    for (const container of pods.flatMap((p) => [...(p.initContainers ?? []), ...p.containers])) {
      for (const env of container.env ?? []) {
        if (secretLike.test(env.name) && env.name !== 'REDIS_URL') expect(env.valueFrom?.secretKeyRef, `${container.name} ${env.name}`).toBeDefined();
      }
    }
  });
});

describe('Kafka (kubernetes/kafka)', () => {
  it.each(OVERLAYS)('%s: Kafka is reached only from the pushtech namespace, Mongo only from it and its own members', (overlay) => {
    const docs = builds[overlay];
    const kafka = all(docs, 'Kafka')[0]!;
    for (const listener of kafka.spec.kafka.listeners) {
      expect(listener.networkPolicyPeers, listener.name).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'pushtech' } } }]);
    }
    const mongo = all(docs, 'MongoDBCommunity')[0]!;
    const policy = all(docs, 'NetworkPolicy').find((p) => p.metadata.namespace === mongo.metadata.namespace)!;
    expect(policy.spec.podSelector.matchLabels).toEqual({ app: `${mongo.metadata.name}-svc` });
    expect(policy.spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'pushtech' } } }, { podSelector: {} }]);
  });

  it('has a KafkaTopic for every topic of packages/contracts, as declared there, with 3 replicas and min.insync.replicas 2', () => {
    const topics = all(builds.prod, 'KafkaTopic');
    expect(topics.map((t) => t.spec.topicName).sort()).toEqual(Object.values(contracts).map((c) => c.spec.name).sort());
    for (const { spec } of Object.values(contracts) as { spec: TopicSpec }[]) {
      const topic = topics.find((t) => t.spec.topicName === spec.name)!;
      expect(topic.spec.partitions, spec.name).toBe(spec.partitions);
      expect(topic.spec.replicas, spec.name).toBe(3);
      expect(topic.spec.config, spec.name).toEqual({
        'retention.ms': spec.retentionMs,
        'cleanup.policy': spec.cleanupPolicy ?? 'delete',
        'min.insync.replicas': 2,
        ...Object.fromEntries(Object.entries(spec.configs ?? {}).map(([k, v]) => [k, Number.isNaN(Number(v)) ? v : Number(v)])),
      });
    }
  });

  it('listings and users are kept forever', () => {
    for (const name of ['listings', 'users']) {
      const topic = all(builds.prod, 'KafkaTopic').find((t) => t.spec.topicName === name)!;
      expect(topic.spec.config['retention.ms']).toBe(-1);
    }
  });

  it.each(OVERLAYS)('%s: KRaft nodes for every replica, and writes go on with a broker away when there are three', (overlay) => {
    const docs = builds[overlay];
    const [cluster] = all(docs, 'Kafka');
    const pools = all(docs, 'KafkaNodePool').filter((p) => p.metadata.labels['strimzi.io/cluster'] === cluster!.metadata.name);
    const brokers = pools.filter((p) => p.spec.roles.includes('broker')).reduce((n, p) => n + p.spec.replicas, 0);
    const controllers = pools.filter((p) => p.spec.roles.includes('controller')).reduce((n, p) => n + p.spec.replicas, 0);
    expect(controllers % 2, 'an odd number of controllers').toBe(1);
    expect(brokers).toBe(overlay === 'prod' ? 3 : 1);
    const config = cluster!.spec.kafka.config;
    for (const topic of all(docs, 'KafkaTopic')) {
      expect(topic.metadata.labels['strimzi.io/cluster']).toBe(cluster!.metadata.name);
      expect(topic.metadata.namespace).toBe(cluster!.metadata.namespace);
      expect(topic.spec.replicas).toBe(brokers);
      // One broker away (a roll, a drain) must not refuse acks=all writes, nor lose an acknowledged one.
      expect(topic.spec.config['min.insync.replicas']).toBe(brokers === 1 ? 1 : brokers - 1);
    }
    expect(config['default.replication.factor']).toBe(brokers);
    expect(config['offsets.topic.replication.factor']).toBe(brokers);
    expect(config['min.insync.replicas']).toBe(brokers === 1 ? 1 : brokers - 1);
    expect(config['unclean.leader.election.enable']).toBe(false);
    expect(config['auto.create.topics.enable']).toBe(false);
  });

  it("the services' KAFKA_BROKERS is the cluster's bootstrap Service", () => {
    const cluster = all(builds.prod, 'Kafka')[0]!;
    const plain = cluster.spec.kafka.listeners.find((l: Manifest) => !l.tls);
    const config = named(builds.prod, 'ConfigMap', 'pushtech-config')!;
    expect(config.data.KAFKA_BROKERS).toBe(`${cluster.metadata.name}-kafka-bootstrap.${cluster.metadata.namespace}.svc:${plain.port}`);
  });
});

describe('MongoDB (kubernetes/mongo)', () => {
  /** The MONGO_URL the command in config.yaml puts in the Secret pushtech-mongo. */
  const documentedUrl = () => {
    const url = /MONGO_URL='([^']+)'/.exec(readFileSync(join(root, 'config.yaml'), 'utf8'))![1]!;
    // WHATWG URLs take one host: read the list of hosts apart, the rest as a URL with the first.
    const [, user, hosts, rest] = /^mongodb:\/\/([^@]+)@([^/]+)(\/.*)$/.exec(url)!;
    return { hosts: hosts!.split(','), url: new URL(`mongodb://${user}@${hosts!.split(',')[0]}${rest}`) };
  };

  it.each(OVERLAYS)('%s: a replica set with authentication', (overlay) => {
    const [mongo] = all(builds[overlay], 'MongoDBCommunity');
    expect(mongo!.spec.members).toBe(overlay === 'prod' ? 3 : 1);
    expect(mongo!.spec.security.authentication.modes).toContain('SCRAM');
  });

  it("the services' MONGO_URL names every member, the replica set, and retries writes", () => {
    const [mongo] = all(builds.prod, 'MongoDBCommunity');
    const { name, namespace } = mongo!.metadata;
    const { hosts, url } = documentedUrl();
    expect(hosts).toEqual(Array.from({ length: mongo!.spec.members }, (_, i) => `${name}-${i}.${name}-svc.${namespace}.svc:27017`));
    expect(url.searchParams.get('replicaSet')).toBe(name);
    expect(url.searchParams.get('retryWrites')).toBe('true');
    expect(url.searchParams.get('w')).toBe('majority');
    expect(url.username).toBe(mongo!.spec.users[0].name);
    expect(url.searchParams.get('authSource')).toBe(mongo!.spec.users[0].db);
  });

  it('only the services that read Mongo get its Secret', () => {
    const readers = new Set(['storage', 'matcher', 'mover', 'notify-bridge', 'notifier', 'offerserver', 'website']);
    for (const workload of workloads(builds.prod)) {
      for (const c of workload.spec.template.spec.containers) {
        const gets = (c.envFrom ?? []).some((e: Manifest) => e.secretRef?.name === 'pushtech-mongo');
        expect(gets, `${workload.metadata.name}/${c.name}`).toBe(readers.has(c.name));
      }
    }
  });
});

describe('backups (kubernetes/backup.yaml)', () => {
  it('a CronJob exports with the backup command into the folder its upload copies to object storage, one at a time', () => {
    const [job] = all(builds.prod, 'CronJob');
    expect(job!.spec.concurrencyPolicy).toBe('Forbid');
    const pod = job!.spec.jobTemplate.spec.template.spec;
    const [exporter] = pod.initContainers;
    const [upload] = pod.containers;
    const entry = exporter.command[1];
    expect(readFileSync(join(root, '..', entry), 'utf8')).toContain("command === 'backup'");
    const to = exporter.command[exporter.command.indexOf('--to') + 1];
    expect(exporter.volumeMounts[0].mountPath).toBe(to);
    expect(upload.volumeMounts[0]).toMatchObject({ name: exporter.volumeMounts[0].name, mountPath: to, readOnly: true });
    expect(upload.command.join(' ')).toContain(`aws s3 sync ${to} `);
    // It reaches Kafka and Mongo as the services do.
    expect(exporter.envFrom).toEqual([{ configMapRef: { name: 'pushtech-config' } }, { secretRef: { name: 'pushtech-mongo' } }]);
  });
});

describe('overlays', () => {
  it.each(OVERLAYS)('%s lists every resource of the base (kustomize refuses an overlay inside its base folder, so it lists the files)', (overlay) => {
    const base = readKustomization(root).resources!.map((r) => `../../${r}`);
    expect(readKustomization(join(root, 'overlays', overlay)).resources).toEqual([...base, '../../kafka', '../../mongo']);
  });

  it("prod runs the project's images as pushed to a registry, with a version", () => {
    const pods = [...workloads(builds.prod).map((w) => w.spec.template.spec), ...all(builds.prod, 'CronJob').map((j) => j.spec.jobTemplate.spec.template.spec)];
    const images: string[] = pods.flatMap((p) => [...(p.initContainers ?? []), ...p.containers].map((c: Manifest) => c.image));
    const ours = images.filter((i) => /(^|\/)pushtech(-[\w-]+)?:/.test(i));
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((i) => !/^[\w.-]+\/pushtech(-[\w-]+)?:\d+\.\d+\.\d+$/.test(i))).toEqual([]);
  });

  const kubectl = (() => {
    try {
      execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  // kubectl is not needed by anything else; where it is installed, its kustomize confirms ours.
  it.skipIf(!kubectl).each(['.', 'overlays/dev', 'overlays/prod'])('kubernetes/%s builds the same with kubectl kustomize', (dir) => {
    const out = execFileSync('kubectl', ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', join(root, dir)], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
    const theirs = parseAllDocuments(out).map((d) => d.toJS() as Manifest);
    const key = (d: Manifest) => `${d.kind}/${d.metadata.namespace}/${d.metadata.name}`;
    const sorted = (docs: Manifest[]) => [...docs].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sorted(builds[dir === '.' ? 'base' : dir === 'overlays/dev' ? 'dev' : 'prod'])).toEqual(sorted(theirs));
  });
});
