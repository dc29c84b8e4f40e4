/** What sign-up and sign-in accept: each broken rule is answered 400 naming the field. */
import { z } from 'zod';

export const EMAIL_MAX_LENGTH = 254;
export const PASSWORD_MIN_LENGTH = 12;
/** scrypt takes any length; the bound keeps a request from making the server hash megabytes. */
export const PASSWORD_MAX_LENGTH = 256;

/**
 * One account per mailbox as people type it: trimmed, Unicode NFC, lower case. (The local part
 * is case-sensitive by the RFC, but no mail provider in use treats it so, and two accounts
 * differing by case would be a trap.)
 */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

// Deliberately loose: a local part, an @, a domain with a dot; no spaces or control characters.
const EMAIL_SHAPE = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u;

const email = z
  .string({ error: 'is required: a string' })
  .transform(normalizeEmail)
  .pipe(
    z.string()
      .min(1, 'is required')
      .max(EMAIL_MAX_LENGTH, `must be at most ${EMAIL_MAX_LENGTH} characters`)
      .regex(EMAIL_SHAPE, 'must be an email address (name@example.org)'),
  );

/** Counted in code points, as people count characters (an emoji is one). */
const codePoints = (s: string) => [...s].length;

const newPassword = z
  .string({ error: 'is required: a string' })
  .refine((s) => codePoints(s) >= PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .refine((s) => codePoints(s) <= PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`)
  .refine((s) => s.trim() !== '', 'must not be only spaces');

// Sign-in does not re-check the sign-up rules (they may change); only that there is something to hash.
const password = z
  .string({ error: 'is required: a string' })
  .min(1, 'is required')
  .refine((s) => codePoints(s) <= PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

/** `_csrf` is allowed in the body for form posts (see csrf.ts). */
export const signUpBody = z.object({ email, password: newPassword, _csrf: z.string().optional() }, { error: 'must be a JSON object' });
export const signInBody = z.object({ email, password, _csrf: z.string().optional() }, { error: 'must be a JSON object' });

export type Credentials = { email: string; password: string };
