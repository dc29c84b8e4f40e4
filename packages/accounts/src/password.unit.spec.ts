import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT, dummyHash, hashPassword, needsRehash, verifyPassword } from './password.ts';

const FAST = { log2N: 10, r: 8, p: 1 };

describe('password hashes (scrypt)', () => {
  it('verifies the password a hash was made from, and no other', async () => {
    const hash = await hashPassword('correct horse battery', FAST);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('salts: the same password gives different hashes', async () => {
    expect(await hashPassword('same password!', FAST)).not.toBe(await hashPassword('same password!', FAST));
  });

  it('carries its parameters, so a hash made with other ones still verifies and is marked for rehash', async () => {
    const hash = await hashPassword('correct horse battery', FAST);
    expect(hash).toMatch(/^scrypt\$10\$8\$1\$[\w-]+\$[\w-]{43}$/);
    expect(needsRehash(hash, FAST)).toBe(false);
    expect(needsRehash(hash, { ...FAST, log2N: 11 })).toBe(true);
    expect(needsRehash(hash, { ...FAST, p: 2 })).toBe(true);
  });

  it('the default parameters (N=2^15, r=8, p=3: 32 MiB) work within the memory Node allows them', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash.startsWith(`scrypt$${DEFAULT_SCRYPT.log2N}$8$3$`)).toBe(true);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
  });

  it('one password typed composed or decomposed (NFKC) is the same password', async () => {
    const hash = await hashPassword('caf\u00e9 au lait 42', FAST);
    expect(await verifyPassword('cafe\u0301 au lait 42', hash)).toBe(true);
  });

  it('a malformed stored hash never matches (and is marked for rehash)', async () => {
    for (const stored of ['', 'plain', 'scrypt$10$8$1$c2FsdA$', 'bcrypt$10$8$1$c2FsdA$AAAA', `scrypt$99$8$1$c2FsdA$${'A'.repeat(43)}`]) {
      expect(await verifyPassword('anything at all', stored)).toBe(false);
      expect(needsRehash(stored, FAST)).toBe(true);
    }
  });

  it('the dummy hash has the parameters asked for and matches no guess', async () => {
    const dummy = await dummyHash(FAST);
    expect(needsRehash(dummy, FAST)).toBe(false);
    expect(await verifyPassword('correct horse battery', dummy)).toBe(false);
  });
});
