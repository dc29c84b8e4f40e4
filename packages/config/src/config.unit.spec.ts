import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bool, ConfigError, ConfigErrors, secret, hostPorts, int, list, loadConfig, number, oneOf, port, string, url } from './index.ts';

function errorOf(spec: Parameters<typeof loadConfig>[0], env: Record<string, string>): string {
  try {
    loadConfig(spec, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigErrors);
    return (err as Error).message;
  }
  throw new Error('expected a config error');
}

describe('loadConfig', () => {
  it('reads valid values and applies defaults', () => {
    const config = loadConfig({
      PORT: port({ default: 8080 }),
      KAFKA_BROKERS: hostPorts(),
      REDIS_URL: url({ protocols: ['redis:'] }),
      LOG_LEVEL: oneOf(['info', 'debug'] as const, { default: 'info' }),
      TRUST_PROXY: bool({ default: false }),
      RATIO: number({ min: 0, max: 1 }),
      ORIGINS: list(),
      SECRET: string({ minLength: 4 }),
    }, {
      KAFKA_BROKERS: '127.0.0.1:19092, kafka:9092',
      REDIS_URL: 'redis://127.0.0.1:16379',
      TRUST_PROXY: '1',
      RATIO: '0.5',
      ORIGINS: 'https://a.example,https://b.example',
      SECRET: 'abcd',
    });
    expect(config).toEqual({
      PORT: 8080,
      KAFKA_BROKERS: ['127.0.0.1:19092', 'kafka:9092'],
      REDIS_URL: 'redis://127.0.0.1:16379',
      LOG_LEVEL: 'info',
      TRUST_PROXY: true,
      RATIO: 0.5,
      ORIGINS: ['https://a.example', 'https://b.example'],
      SECRET: 'abcd',
    });
  });

  it.each([
    ['missing', { A: string() }, {}, 'config: A is required: a non-empty string'],
    ['blank', { A: string() }, { A: '  ' }, 'config: A is required: a non-empty string'],
    ['short string', { A: string({ minLength: 32 }) }, { A: 'x' }, 'config: A must be a string of at least 32 characters (got "x")'],
    ['not an integer', { A: int() }, { A: '1.5' }, 'config: A must be an integer (got "1.5")'],
    ['integer out of range', { A: int({ min: 1, max: 10 }) }, { A: '11' }, 'config: A must be an integer between 1 and 10 (got "11")'],
    ['bad port', { A: port() }, { A: '70000' }, 'config: A must be an integer between 1 and 65535 (got "70000")'],
    ['not a number', { A: number() }, { A: 'abc' }, 'config: A must be a number (got "abc")'],
    ['bad boolean', { A: bool() }, { A: 'yes' }, 'config: A must be one of true, false, 1, 0 (got "yes")'],
    ['not in the set', { A: oneOf(['x', 'y']) }, { A: 'z' }, 'config: A must be one of x, y (got "z")'],
    ['bad url', { A: url({ protocols: ['redis:'] }) }, { A: 'localhost:6379' }, 'config: A must be a URL starting with redis:// (got "localhost:6379")'],
    ['wrong url scheme', { A: url({ protocols: ['mongodb:'] }) }, { A: 'http://x' }, 'config: A must be a URL starting with mongodb:// (got "http://x")'],
    ['bad host:port list', { A: hostPorts() }, { A: '127.0.0.1' }, 'config: A must be a comma-separated list of host:port (got "127.0.0.1")'],
    ['short secret, never echoed', { A: secret({ minLength: 32 }) }, { A: 'hunter2' }, 'config: A must be a string of at least 32 characters (got 7 characters)'],
    ['missing secret', { A: secret({ minLength: 32 }) }, {}, 'config: A is required: a string of at least 32 characters'],
    ['empty list', { A: list() }, { A: ',,' }, 'config: A must be a comma-separated list (got ",,")'],
  ] as const)('%s gives one line naming the variable and the rule', (_kind, spec, env, expected) => {
    const message = errorOf(spec, env);
    expect(message).toBe(expected);
    expect(message.split('\n')).toHaveLength(1);
  });

  it('reports every bad variable, one line each', () => {
    const message = errorOf({ A: int(), B: port(), C: string({ default: 'ok' }) }, { A: 'x', B: '0' });
    expect(message.split('\n')).toEqual([
      'config: A must be an integer (got "x")',
      'config: B must be an integer between 1 and 65535 (got "0")',
    ]);
  });

  it('checks the rules between variables once each is valid, one line each', () => {
    const spec = { MIN: int(), MAX: int() };
    const check = (c: { MIN: number; MAX: number }) => (c.MAX < c.MIN ? [new ConfigError('MAX', `must be at least MIN (${c.MIN})`, String(c.MAX))] : []);
    expect(loadConfig(spec, { MIN: '1', MAX: '2' }, check)).toEqual({ MIN: 1, MAX: 2 });
    expect(() => loadConfig(spec, { MIN: '3', MAX: '2' }, check)).toThrow(new ConfigErrors([new ConfigError('MAX', 'must be at least MIN (3)', '2')]));
    // A variable that is bad on its own is reported alone: the rules between them are not asked.
    expect(() => loadConfig(spec, { MIN: 'x', MAX: '2' }, check)).toThrow('config: MIN must be an integer (got "x")');
  });
});

describe('loadConfigOrExit', () => {
  it('stops the process with exit code 78 and the line on stderr', () => {
    const script = `
      import { loadConfigOrExit, port } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
      loadConfigOrExit({ PORT: port() });
      console.log('not reached');
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, PORT: 'eighty' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe('config: PORT must be an integer between 1 and 65535 (got "eighty")');
  });
});
