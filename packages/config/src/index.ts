/**
 * Configuration comes only from environment variables. Each service declares
 * the variables it reads with the small readers below; `loadConfig` validates
 * all of them at start and reports every bad one, one line per variable,
 * naming the variable and the rule it breaks.
 */
import { isIP } from 'node:net';

export class ConfigError extends Error {
  readonly variable: string;
  readonly rule: string;
  constructor(variable: string, rule: string, raw?: string) {
    super(`${variable} ${rule}${raw === undefined ? '' : ` (got ${JSON.stringify(raw)})`}`);
    this.name = 'ConfigError';
    this.variable = variable;
    this.rule = rule;
  }
}

export class ConfigErrors extends Error {
  readonly errors: ConfigError[];
  constructor(errors: ConfigError[]) {
    super(errors.map((e) => `config: ${e.message}`).join('\n'));
    this.name = 'ConfigErrors';
    this.errors = errors;
  }
}

/** A reader turns the raw string (or undefined) into a value or throws `ConfigError`. */
export interface Reader<T> {
  read(name: string, raw: string | undefined): T;
  /** Shown in docs and `.env.example`. */
  describe(): string;
}

interface Options<T> {
  default?: T;
}

function reader<T>(
  rule: string,
  parse: (raw: string) => T | undefined,
  options: Options<T> = {},
): Reader<T> {
  return {
    read(name, raw) {
      if (raw === undefined || raw.trim() === '') {
        if (options.default !== undefined) return options.default;
        throw new ConfigError(name, `is required: ${rule}`);
      }
      const value = parse(raw.trim());
      if (value === undefined) throw new ConfigError(name, `must be ${rule}`, raw);
      return value;
    },
    describe() {
      return options.default === undefined ? `${rule} (required)` : `${rule} (default ${String(options.default)})`;
    },
  };
}

export function string(options: Options<string> & { minLength?: number } = {}): Reader<string> {
  const min = options.minLength ?? 1;
  return reader(min > 1 ? `a string of at least ${min} characters` : 'a non-empty string', (raw) =>
    raw.length >= min ? raw : undefined, options);
}

/** A key, token or password: like `string({ minLength })`, but its value never appears in an error. */
export function secret(options: { minLength: number }): Reader<string> {
  const rule = `a string of at least ${options.minLength} characters`;
  return {
    read(name, raw) {
      const value = raw?.trim() ?? '';
      if (value === '') throw new ConfigError(name, `is required: ${rule}`);
      if (value.length < options.minLength) throw new ConfigError(name, `must be ${rule} (got ${value.length} characters)`);
      return value;
    },
    describe: () => `${rule} (required, secret)`,
  };
}

export function int(options: Options<number> & { min?: number; max?: number } = {}): Reader<number> {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const range = options.min !== undefined || options.max !== undefined ? ` between ${min} and ${max}` : '';
  return reader(`an integer${range}`, (raw) => {
    if (!/^-?\d+$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  }, options);
}

export function number(options: Options<number> & { min?: number; max?: number } = {}): Reader<number> {
  const min = options.min ?? -Infinity;
  const max = options.max ?? Infinity;
  const range = Number.isFinite(min) || Number.isFinite(max) ? ` between ${min} and ${max}` : '';
  return reader(`a number${range}`, (raw) => {
    const n = Number(raw);
    return Number.isFinite(n) && n >= min && n <= max ? n : undefined;
  }, options);
}

export function port(options: Options<number> = {}): Reader<number> {
  return int({ ...options, min: 1, max: 65535 });
}

export function bool(options: Options<boolean> = {}): Reader<boolean> {
  return reader('one of true, false, 1, 0', (raw) => {
    const v = raw.toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    return undefined;
  }, options);
}

export function oneOf<const T extends string>(values: readonly T[], options: Options<T> = {}): Reader<T> {
  return reader(`one of ${values.join(', ')}`, (raw) => (values as readonly string[]).includes(raw) ? raw as T : undefined, options);
}

export function url(options: Options<string> & { protocols: string[] }): Reader<string> {
  const schemes = options.protocols.map((p) => `${p}//`).join(' or ');
  return reader(`a URL starting with ${schemes}`, (raw) => {
    try {
      const parsed = new URL(raw);
      return options.protocols.includes(parsed.protocol) && parsed.host !== '' ? raw : undefined;
    } catch {
      return undefined;
    }
  }, options);
}

/** Comma-separated `host:port` list, e.g. Kafka brokers. */
export function hostPorts(options: Options<string[]> = {}): Reader<string[]> {
  return reader('a comma-separated list of host:port', (raw) => {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const valid = items.length > 0 && items.every((item) => {
      const m = /^([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(item);
      return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
    });
    return valid ? items : undefined;
  }, options);
}

/** Comma-separated list of non-empty strings. */
export function list(options: Options<string[]> = {}): Reader<string[]> {
  return reader('a comma-separated list', (raw) => {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    return items.length > 0 ? items : undefined;
  }, options);
}

/** Fastify's `trustProxy`: false, true, a hop count, or the proxies' addresses/CIDRs. */
export type TrustProxy = boolean | number | string[];

const proxyAddressNames = ['loopback', 'linklocal', 'uniquelocal'];

function isProxyAddress(item: string): boolean {
  if (proxyAddressNames.includes(item)) return true;
  const [address, prefix, ...rest] = item.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const version = isIP(address);
  if (version === 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (version === 4 ? 32 : 128);
}

export function trustProxy(): Reader<TrustProxy> {
  const rule = `false, true, a number of hops, or a comma-separated list of addresses/CIDRs (or ${proxyAddressNames.join(', ')})`;
  return {
    read(name, raw) {
      const value = raw?.trim() ?? '';
      if (value === '' || value === 'false') return false;
      if (value === 'true') return true;
      if (/^\d+$/.test(value)) return Number(value) === 0 ? false : Number(value);
      const items = value.split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length > 0 && items.every(isProxyAddress)) return items;
      throw new ConfigError(name, `must be ${rule}`, raw);
    },
    describe: () => `${rule} (default false)`,
  };
}

/**
 * Fastify's own hop count trusts nobody (since 5.x it fails closed), so a count
 * becomes a function trusting the `hops` nearest addresses: the socket's peer and
 * the last `hops - 1` entries of X-Forwarded-For. Only safe when every request
 * passes through those proxies.
 */
export function fastifyTrustProxy(value: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value !== 'number') return value;
  return (_address, hop) => hop < value;
}

export type Spec = Record<string, Reader<unknown>>;
export type ConfigOf<S extends Spec> = { [K in keyof S]: S[K] extends Reader<infer T> ? T : never };
/** Rules between variables (each one read well on its own): the errors, none when they hold. */
export type CrossCheck<C> = (config: C) => ConfigError[];

/**
 * Validates every variable of `spec`, then the rules between them (`check`); throws
 * `ConfigErrors` listing each bad one.
 */
export function loadConfig<S extends Spec>(spec: S, env: NodeJS.ProcessEnv = process.env, check?: CrossCheck<ConfigOf<S>>): ConfigOf<S> {
  const result: Record<string, unknown> = {};
  const errors: ConfigError[] = [];
  for (const [name, r] of Object.entries(spec)) {
    try {
      result[name] = r.read(name, env[name]);
    } catch (err) {
      if (err instanceof ConfigError) errors.push(err);
      else throw err;
    }
  }
  if (errors.length > 0) throw new ConfigErrors(errors);
  const broken = check?.(result as ConfigOf<S>) ?? [];
  if (broken.length > 0) throw new ConfigErrors(broken);
  return result as ConfigOf<S>;
}

/** For `index.ts` of a service: a bad config prints its lines on stderr and exits with 78 (EX_CONFIG). */
export function loadConfigOrExit<S extends Spec>(spec: S, env: NodeJS.ProcessEnv = process.env, check?: CrossCheck<ConfigOf<S>>): ConfigOf<S> {
  try {
    return loadConfig(spec, env, check);
  } catch (err) {
    if (err instanceof ConfigErrors) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}

/** Lines for `.env.example` / a README table. */
export function describeConfig(spec: Spec): string[] {
  return Object.entries(spec).map(([name, r]) => `${name}: ${r.describe()}`);
}
