/**
 * Prints a bearer token for a user id (local use and the demo):
 *   JWT_SECRET=… npm run token -w services/storage -- <userId> [--expires-in 30d]
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit, secret } from '@pushtech/config';
import { DEFAULT_TOKEN_LIFETIME, JWT_SECRET_MIN_LENGTH, signToken } from '@pushtech/auth';

const usage = 'usage: npm run token -w services/storage -- <userId> [--expires-in 30d]   (JWT_SECRET from the environment)';

let args;
try {
  args = parseArgs({ allowPositionals: true, options: { 'expires-in': { type: 'string', default: DEFAULT_TOKEN_LIFETIME } } });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${usage}\n`);
  process.exit(64);
}
const [userId, ...rest] = args.positionals;
if (userId === undefined || userId.trim() === '' || rest.length > 0) {
  process.stderr.write(`${usage}\n`);
  process.exit(64);
}
const { JWT_SECRET } = loadConfigOrExit({ JWT_SECRET: secret({ minLength: JWT_SECRET_MIN_LENGTH }) });
try {
  process.stdout.write(`${await signToken(userId, JWT_SECRET, { expiresIn: args.values['expires-in'] })}\n`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${usage}\n`);
  process.exit(64);
}
