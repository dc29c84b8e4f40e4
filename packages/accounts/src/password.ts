/**
 * Password hashes with scrypt (node:crypto). A hash carries its own parameters
 * (`scrypt$<log2 N>$<r>$<p>$<salt>$<key>`, base64url), so the cost can be raised later:
 * `needsRehash` tells which stored hashes to replace at the next successful sign-in.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** N = 2^log2N (CPU and memory cost). */
  log2N: number;
  /** Block size. */
  r: number;
  /** Parallelism: rounds done one after the other here, so it multiplies the time, not the memory. */
  p: number;
}

/**
 * OWASP's password storage cheat sheet lists N=2^15, r=8, p=3 as equal in strength to its
 * first choice N=2^17, r=8, p=1 while using 32 MiB instead of 128 MiB per hash.
 */
export const DEFAULT_SCRYPT: ScryptParams = { log2N: 15, r: 8, p: 3 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = 'scrypt';

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.log2N;
  // Node refuses by default anything over 32 MiB: allow what these parameters need (128·N·r) and some.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return new Promise((resolve, reject) => {
    // NFKC: the same password typed on two keyboards (composed or decomposed accents) is the same password.
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return [PREFIX, params.log2N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every((n) => Number.isInteger(n) && n > 0) || log2N > 24) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const key = Buffer.from(parts[5]!, 'base64url');
  if (salt.length === 0 || key.length !== KEY_BYTES) return undefined;
  return { params: { log2N, r, p }, salt, key };
}

/**
 * True when `password` is the one `stored` was made from. The keys are compared with
 * `timingSafeEqual`, so how long the comparison takes says nothing about how much matched.
 * A malformed stored hash is never a match (and is logged by the caller, not thrown at the user).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (parsed === undefined) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

/** True when `stored` was made with other parameters than `params` (or cannot be read). */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parseHash(stored);
  return parsed === undefined || parsed.params.log2N !== params.log2N || parsed.params.r !== params.r || parsed.params.p !== params.p;
}

/**
 * A hash of a random password with the current parameters, made once at start: a sign-in for
 * an email without an account is checked against it, so it costs the same scrypt work as one
 * for an existing account and its answer time does not tell whether the account exists.
 */
export function dummyHash(params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  return hashPassword(randomBytes(18).toString('base64url'), params);
}
