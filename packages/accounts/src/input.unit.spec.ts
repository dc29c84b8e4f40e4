import { describe, expect, it } from 'vitest';
import { ApiError, parseInput } from '@pushtech/service';
import { normalizeEmail, signInBody, signUpBody } from './input.ts';

function refusal(schema: typeof signUpBody | typeof signInBody, body: unknown) {
  try {
    parseInput(schema, body, 'body');
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, errors: err.errors };
    throw err;
  }
  throw new Error('accepted');
}

describe('sign-up and sign-in input', () => {
  it('normalises the email: trimmed, NFC, lower case', () => {
    expect(normalizeEmail('  Ann.Lee@Example.ORG ')).toBe('ann.lee@example.org');
    expect(normalizeEmail('Jose\u0301@example.org')).toBe('jos\u00e9@example.org');
    expect(parseInput(signUpBody, { email: ' ANN@example.org', password: 'twelve chars' }, 'body').email).toBe('ann@example.org');
  });

  it('names the field and the rule of each mistake', () => {
    expect(refusal(signUpBody, { email: 'ann', password: 'short' })).toEqual({
      status: 400,
      errors: [
        { field: 'email', rule: 'must be an email address (name@example.org)' },
        { field: 'password', rule: 'must be at least 12 characters' },
      ],
    });
    expect(refusal(signUpBody, {}).errors).toEqual([
      { field: 'email', rule: 'is required: a string' },
      { field: 'password', rule: 'is required: a string' },
    ]);
    expect(refusal(signUpBody, { email: `${'a'.repeat(250)}@example.org`, password: ' '.repeat(12) }).errors).toEqual([
      { field: 'email', rule: 'must be at most 254 characters' },
      { field: 'password', rule: 'must not be only spaces' },
    ]);
    expect(refusal(signUpBody, { email: 'a b@example.org', password: 'x'.repeat(257) }).errors).toEqual([
      { field: 'email', rule: 'must be an email address (name@example.org)' },
      { field: 'password', rule: 'must be at most 256 characters' },
    ]);
    expect(refusal(signUpBody, 'not an object').errors).toEqual([{ field: 'body', rule: 'must be a JSON object' }]);
  });

  it('counts password length in characters as people see them (an emoji is one)', () => {
    expect(() => parseInput(signUpBody, { email: 'a@example.org', password: '🔑'.repeat(12) }, 'body')).not.toThrow();
    expect(refusal(signUpBody, { email: 'a@example.org', password: '🔑'.repeat(11) }).errors).toEqual([{ field: 'password', rule: 'must be at least 12 characters' }]);
  });

  it('sign-in does not apply the sign-up length rule (rules may change), only that there is a password', () => {
    expect(() => parseInput(signInBody, { email: 'a@example.org', password: 'short' }, 'body')).not.toThrow();
    expect(refusal(signInBody, { email: 'a@example.org', password: '' }).errors).toEqual([{ field: 'password', rule: 'is required' }]);
  });
});
