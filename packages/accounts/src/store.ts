/**
 * Accounts and sign-in sessions in Mongo.
 *
 * `accounts._id` is the normalised email: the `_id` index is the unique email index, and an
 * `_id` equality is the one filter FerretDB 1.x answers from an index (any other filter reads
 * the whole collection), so every sign-in is one indexed read on both servers. The user id
 * (a random UUID, what tokens carry as `sub`) has a unique index of its own.
 *
 * `sessions._id` is the SHA-256 of the cookie's random value: a copy of the database does not
 * give anyone a live session.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ensureIndexes, isDuplicateKey, type Collection, type Db, type IndexSpec } from '@pushtech/mongo';

export const ACCOUNTS = 'accounts';
export const SESSIONS = 'sessions';

export interface AccountDocument {
  _id: string;
  userId: string;
  passwordHash: string;
  createdAt: Date;
}

export interface SessionDocument {
  _id: string;
  userId: string;
  /** null for a session opened with an OIDC token that had no email. */
  email: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export const ACCOUNT_INDEXES: IndexSpec[] = [
  { collection: ACCOUNTS, key: { userId: 1 }, name: 'userId_unique', options: { unique: true } },
  { collection: SESSIONS, key: { expiresAt: 1 }, name: 'expiresAt' },
];

/** Creates the indexes the accounts need (only the missing ones): call it at start. */
export function ensureAccountIndexes(db: Db): Promise<void> {
  return ensureIndexes(db, ACCOUNT_INDEXES);
}

function accounts(db: Db): Collection<AccountDocument> {
  return db.collection<AccountDocument>(ACCOUNTS);
}

function sessions(db: Db): Collection<SessionDocument> {
  return db.collection<SessionDocument>(SESSIONS);
}

/** The new account, or undefined when the email has one already. */
export async function insertAccount(db: Db, email: string, passwordHash: string): Promise<AccountDocument | undefined> {
  const account: AccountDocument = { _id: email, userId: randomUUID(), passwordHash, createdAt: new Date() };
  try {
    await accounts(db).insertOne(account);
    return account;
  } catch (err) {
    if (isDuplicateKey(err)) return undefined;
    throw err;
  }
}

export function findAccount(db: Db, email: string): Promise<AccountDocument | null> {
  return accounts(db).findOne({ _id: email });
}

export async function replacePasswordHash(db: Db, email: string, passwordHash: string): Promise<void> {
  await accounts(db).updateOne({ _id: email }, { $set: { passwordHash } });
}

function sessionKey(cookieValue: string): string {
  return createHash('sha256').update(cookieValue).digest('base64url');
}

/** Opens a session; the answer is the value for the cookie (the database keeps only its hash). */
export async function openSession(db: Db, userId: string, email: string | null, ttlMs: number): Promise<string> {
  const value = randomBytes(32).toString('base64url');
  const now = Date.now();
  await sessions(db).insertOne({ _id: sessionKey(value), userId, email, createdAt: new Date(now), expiresAt: new Date(now + ttlMs) });
  return value;
}

/** The live session of a cookie's value; an expired one is deleted on the way. */
export async function findSession(db: Db, cookieValue: string): Promise<SessionDocument | undefined> {
  const id = sessionKey(cookieValue);
  const session = await sessions(db).findOne({ _id: id });
  if (session === null) return undefined;
  if (session.expiresAt.getTime() <= Date.now()) {
    await sessions(db).deleteOne({ _id: id });
    return undefined;
  }
  return session;
}

export async function closeSession(db: Db, cookieValue: string): Promise<void> {
  await sessions(db).deleteOne({ _id: sessionKey(cookieValue) });
}

/** Deletes expired sessions that nobody came back with; the plugin runs it now and then. */
export async function deleteExpiredSessions(db: Db, now = new Date()): Promise<number> {
  const result = await sessions(db).deleteMany({ expiresAt: { $lte: now } });
  return result.deletedCount;
}
