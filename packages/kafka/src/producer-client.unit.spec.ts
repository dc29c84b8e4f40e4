import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/producer-client.ts', import.meta.url));

function run(value: string | undefined) {
  const env = { ...process.env };
  delete env.KAFKA_PRODUCER;
  if (value !== undefined) env.KAFKA_PRODUCER = value;
  const { status, stdout, stderr } = spawnSync(process.execPath, [fixture], { env, encoding: 'utf8' });
  return { status, stdout, stderr };
}

describe('KAFKA_PRODUCER', () => {
  it('chooses the producer client, platformatic by default', () => {
    expect(run(undefined)).toMatchObject({ status: 0, stdout: 'platformatic\n' });
    expect(run('kafkajs')).toMatchObject({ status: 0, stdout: 'kafkajs\n' });
  });

  it('a bad value stops the process with one line naming the variable and the rule (exit 78)', () => {
    expect(run('rdkafka')).toEqual({
      status: 78,
      stdout: '',
      stderr: 'config: KAFKA_PRODUCER must be one of platformatic, kafkajs (got "rdkafka")\n',
    });
  });
});
