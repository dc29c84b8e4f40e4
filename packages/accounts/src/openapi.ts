/**
 * What the `/account/*` routes say of themselves in an OpenAPI document (the website serves it at
 * /docs/json): bodies generated from the zod schemas the handlers parse with (input.ts), answers
 * from the schemas below, with @pushtech/service's OpenAPI helpers. The handlers check their input
 * with zod: each route turns Fastify's own validation and serialization off.
 */
import { json, noContent, openApiSchema, refusal, unavailable } from '@pushtech/service';
import { z } from 'zod';
import { signInBody, signUpBody } from './input.ts';

const csrfToken = z.string().meta({ description: 'send it as `x-csrf-token` on every write (POST/PUT/PATCH/DELETE)' });
const signedIn = z.object({
  userId: z.string(),
  email: z.string().nullable().meta({ description: 'null for a bearer token' }),
  csrfToken,
});

const refusals = {
  400: json(refusal(['invalid_request']), 'A field or parameter breaks a rule (`errors` names each field and rule): also a query that is not valid URL encoding or UTF-8, and a body that is not valid JSON'),
  401: json(refusal(['unauthorized']), 'No session (cookie or bearer token), or a bearer token that is not valid'),
  403: json(refusal(['forbidden']), 'The CSRF check failed: no CSRF cookie, no `x-csrf-token`, or one that does not match the cookie'),
  409: json(refusal(['conflict']), 'The email cannot be used to sign up (it has an account)'),
  413: json(refusal(['body_too_large']), 'The body is too large'),
  415: json(refusal(['unsupported_media_type']), 'A body that is not `application/json` (also on the routes that take none)'),
  429: json(refusal(['too_many_attempts']), 'Too many sign-in or sign-up attempts for this email or client: retry after `Retry-After`', ['Retry-After']),
  503: json(unavailable, 'MongoDB is away (or not connected yet): nothing was changed; retry after `Retry-After`', ['Retry-After']),
} as const;

const refused = (...statuses: (keyof typeof refusals)[]) => Object.fromEntries(statuses.map((status) => [status, refusals[status]]));
const session = [{ sessionCookie: [] }, { bearerAuth: [] }];

/** Route options: the schema the document shows; the handler checks the input itself (zod). */
function documented(schema: Record<string, unknown>) {
  return {
    schema: { tags: ['account'], ...schema },
    validatorCompiler: () => (data: unknown) => ({ value: data }),
    serializerCompiler: () => (data: unknown) => JSON.stringify(data),
  };
}

const credentialsDescription = 'Credentials: `email` is trimmed, NFC-normalised and lower-cased, then must look like name@domain.tld (at most 254 characters)';

export const accountRoutesDoc = {
  csrf: documented({ summary: 'A CSRF token (and its cookie, when the browser has none)', response: { 200: json(z.object({ csrfToken }), 'The token'), ...refused(400) } }),
  signup: documented({
    summary: 'Create an account and sign in (CSRF token needed)',
    body: { ...openApiSchema(signUpBody), description: `${credentialsDescription}; \`password\` has 12 to 256 characters (code points) and is not only spaces` },
    response: { 201: json(signedIn, 'Signed in: the session cookie is set, the CSRF cookie renewed (use the new `csrfToken`)'), ...refused(400, 403, 409, 413, 415, 429, 503) },
  }),
  signin: documented({
    summary: 'Sign in (CSRF token needed)',
    body: { ...openApiSchema(signInBody), description: `${credentialsDescription}; \`password\` has 1 to 256 characters (code points)` },
    response: {
      200: json(signedIn, 'Signed in: the session cookie is set, the CSRF cookie renewed (use the new `csrfToken`)'),
      ...refused(400, 403, 413, 415, 429, 503),
      401: json(refusal(['unauthorized']), 'The email or the password is wrong (one answer for both)'),
    },
  }),
  signout: documented({ summary: 'Sign out (CSRF token needed): the session is deleted and its cookie cleared', response: { 204: noContent('Signed out (also without a session)'), ...refused(400, 403, 413, 415, 503) } }),
  me: documented({ summary: 'Who is signed in', security: session, response: { 200: json(signedIn, 'The session\'s user'), ...refused(400, 401, 503) } }),
  token: documented({
    summary: 'A bearer JWT for storage and the imageserver (HS256, `sub` = the user id); with a cookie session, the CSRF token is needed',
    security: session,
    response: { 200: json(z.object({ token: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.int().min(1).meta({ description: 'seconds' }) }), 'The token'), ...refused(400, 401, 403, 413, 415, 503) },
  }),
  oidc: documented({
    summary: 'Sign in with a token of the configured OpenID Connect issuer',
    security: [{ bearerAuth: [] }],
    response: { 200: json(signedIn, 'Signed in, a cookie session for `oidc:<sub>`'), ...refused(400, 401, 403, 413, 415, 503) },
  }),
};

/** The security schemes the account routes name. */
export function accountSecuritySchemes(cookieName: string) {
  return {
    sessionCookie: { type: 'apiKey', in: 'cookie', name: cookieName, description: 'the session cookie set by sign-in or sign-up' },
    bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  };
}
