import { describe, expect, it } from 'vitest';
import type { Style } from '@pushtech/contracts';
import { decide, type Answer, type Decision } from './outcome.ts';

const uuid = '0197a1f2-3c4d-7e5f-8a9b-0c1d2e3f4a5b';
const policy = { baseMs: 100, maxMs: 1_000, maxAttempts: 5, maxAgeMs: 60_000 };
const now = 1_700_000_000_000;
const http = (status: number, text = '', retryAfter?: string): Answer => ({ kind: 'http', status, text, ...(retryAfter ? { retryAfter } : {}) });
const run = (style: Style | undefined, answer: Answer, attempts = 1, firstAttemptAt = now): Decision =>
  decide({ request: { uuid, versionUtcSeconds: 1_700_000_000.5, ...(style ? { style } : {}) }, answer, attempts, firstAttemptAt, now, policy, random: () => 0.5 });

const statusOf = { '2xx': 200, '4xx': 400, '5xx': 503 } as const;
const bodyOf = { '2xx': '{"id":"n1"}', '4xx': '{"errors":["Bad Request"]}', '5xx': '{"errors":["Service Unavailable"]}' } as const;

describe('decide: every operation for every status class', () => {
  for (const statusClass of ['2xx', '4xx', '5xx'] as const) {
    const status = statusOf[statusClass];
    const answer = http(status, bodyOf[statusClass]);

    it(`${statusClass} copy: the response carries the status and the parsed body`, () => {
      const d = run({ [statusClass]: { operation: 'copy' } }, answer);
      expect(d).toMatchObject({ action: 'respond', operation: 'copy', statusClass, level: 'trace' });
      expect(d.action === 'respond' && d.response).toEqual({
        type: 'copy', uuid, versionUtcSeconds: 1_700_000_000.5, handledAt: now / 1000, info: { status, body: JSON.parse(bodyOf[statusClass]) },
      });
    });

    it(`${statusClass} success: a success response without info`, () => {
      const d = run({ [statusClass]: { operation: 'success' } }, answer);
      expect(d).toMatchObject({ action: 'respond', operation: 'success', level: 'trace' });
      expect(d.action === 'respond' && d.response).toEqual({ type: 'success', uuid, versionUtcSeconds: 1_700_000_000.5, handledAt: now / 1000 });
    });

    it(`${statusClass} failure: a failure response with the reason`, () => {
      const d = run({ [statusClass]: { operation: 'failure' } }, answer);
      expect(d).toMatchObject({ action: 'respond', operation: 'failure', level: 'warn' });
      expect(d.action === 'respond' && d.response).toEqual({ type: 'failure', uuid, versionUtcSeconds: 1_700_000_000.5, handledAt: now / 1000, reason: `status ${status}` });
    });

    it(`${statusClass} retry: a retry after the back-off`, () => {
      const d = run({ [statusClass]: { operation: 'retry' } }, answer, 2);
      expect(d).toMatchObject({ action: 'retry', operation: 'retry', level: 'warn', delayMs: 150, reason: `status ${status}`, ignoreVersion: false });
    });
  }
});

describe('decide: copy bodies', () => {
  it('a blank body is ""', () => {
    for (const text of ['', '  \n']) {
      const d = run({ '2xx': { operation: 'copy' } }, http(200, text));
      expect(d.action === 'respond' && d.response.info).toEqual({ status: 200, body: '' });
    }
  });

  it('raw: the body as text, JSON or not', () => {
    for (const text of ['{"id": "n1"}', '<html>ok</html>']) {
      const d = run({ '2xx': { operation: 'copy', raw: true } }, http(200, text));
      expect(d.action === 'respond' && d.response.info).toEqual({ status: 200, body: text });
    }
  });

  it('a body that is not JSON is a failure, with the reason', () => {
    const d = run({ '4xx': { operation: 'copy' } }, http(404, '<html>Not Found</html>'));
    expect(d).toMatchObject({ action: 'respond', operation: 'failure', level: 'warn' });
    expect(d.action === 'respond' && d.response.type).toBe('failure');
    expect(d.action === 'respond' && d.response.reason).toMatch(/^copy: the body of the 404 answer is not JSON \(/);
  });
});

describe('decide: defaults and always-retried statuses', () => {
  it('without a style: 2xx is success, 4xx and 5xx are failure', () => {
    expect(run(undefined, http(200, '{}'))).toMatchObject({ action: 'respond', operation: 'success' });
    expect(run(undefined, http(400, '{}'))).toMatchObject({ action: 'respond', operation: 'failure' });
    expect(run(undefined, http(500, '{}'))).toMatchObject({ action: 'respond', operation: 'failure' });
    expect(run({ '2xx': { operation: 'copy' } }, http(302, ''))).toMatchObject({ action: 'respond', operation: 'failure', statusClass: 'other' });
  });

  it('429 and 401 are retried whatever the 4xx style says', () => {
    for (const operation of ['copy', 'success', 'failure'] as const) {
      expect(run({ '4xx': { operation } }, http(429, '{}'))).toMatchObject({ action: 'retry', status: 429 });
      expect(run({ '4xx': { operation } }, http(401, '{}'))).toMatchObject({ action: 'retry', status: 401 });
    }
  });

  it('a 429 waits for its Retry-After', () => {
    expect(run(undefined, http(429, '{}', '7'))).toMatchObject({ action: 'retry', delayMs: 7_000, retryAfterMs: 7_000 });
    expect(run(undefined, http(429, '{}'))).toMatchObject({ action: 'retry', delayMs: 75 });
  });

  it('an attempt without an answer is retried, styled like a 5xx', () => {
    const d = run({ '5xx': { operation: 'failure', level: 'error', ignore_version: true } }, { kind: 'error', message: 'timeout' });
    expect(d).toMatchObject({ action: 'retry', statusClass: 'none', level: 'error', reason: 'no answer (timeout)', ignoreVersion: true });
  });
});

describe('decide: bounds', () => {
  it('gives up after maxAttempts', () => {
    expect(run({ '5xx': { operation: 'retry' } }, http(500), 4)).toMatchObject({ action: 'retry' });
    const d = run({ '5xx': { operation: 'retry' } }, http(500), 5);
    expect(d).toMatchObject({ action: 'respond', operation: 'failure', reason: 'gave up after 5 attempts: status 500' });
  });

  it('gives up when the next attempt would come later than maxAgeMs after the first', () => {
    const d = run({ '5xx': { operation: 'retry' } }, http(500), 2, now - 59_900);
    expect(d).toMatchObject({ action: 'respond', operation: 'failure' });
    expect(d.action === 'respond' && d.reason).toMatch(/more than 60000 ms after the first/);
    expect(run(undefined, http(429, '', '120'), 1)).toMatchObject({ action: 'respond', operation: 'failure' });
  });
});

describe('decide: logging and partial sends', () => {
  it('copy and success log at trace, failure and retry at warn; silent and level override per class', () => {
    expect(run({ '2xx': { operation: 'success' } }, http(200)).level).toBe('trace');
    expect(run({ '2xx': { operation: 'success', level: 'info' } }, http(200)).level).toBe('info');
    expect(run({ '4xx': { operation: 'failure', silent: true } }, http(400)).level).toBe('silent');
    expect(run({ '5xx': { operation: 'retry', level: 'debug' } }, http(500)).level).toBe('debug');
  });

  it('a 2xx with errors is partial, whatever the operation', () => {
    const text = '{"id":"n1","errors":{"invalid_aliases":{"external_id":["unknown-1"]}}}';
    expect(run({ '2xx': { operation: 'success' } }, http(200, text)).partial).toEqual({ invalid_aliases: { external_id: ['unknown-1'] } });
    expect(run(undefined, http(200, '{"id":"","errors":["All included players are not subscribed"]}')).partial).toEqual(['All included players are not subscribed']);
    expect(run(undefined, http(200, '{"id":"n1","errors":[]}')).partial).toBeUndefined();
    expect(run(undefined, http(400, '{"errors":["x"]}')).partial).toBeUndefined();
  });
});
