/**
 * What the `/me/devices` routes accept, as zod schemas: each rule's message is
 * the `rule` of the 400 answer (`{ field, rule }`); the OpenAPI document is
 * generated from the same schemas.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PLATFORMS, type WebPushSubscription } from '@pushtech/contracts';

export const DEVICE_LIMITS = { subscriptionIdMaxChars: 128, endpointMaxChars: 2048 } as const;

/** The message for a missing field, or `rule` for a value of the wrong type. */
const typed = (rule: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : rule);

const lengthRule = `must be 1 to ${DEVICE_LIMITS.subscriptionIdMaxChars} characters`;

/** A OneSignal subscription id: a UUID today; any id of letters, digits, `-`, `_`, `.`, `:` up to 128 characters is taken. */
export const subscriptionId = z
  .string({ error: typed(lengthRule) })
  .min(1, lengthRule)
  .max(DEVICE_LIMITS.subscriptionIdMaxChars, lengthRule)
  .regex(/^[A-Za-z0-9._:-]*$/, 'must contain only letters, digits, "-", "_", "." and ":"')
  .meta({ description: 'the OneSignal subscription id of the app install (a UUID)', example: '1b3e7c52-9a4f-4d1e-8b6a-2f0c9d8e7a61' });

export const platform = z.enum(PLATFORMS, { error: typed(`must be one of ${PLATFORMS.join(', ')}`) });

/** base64url (padding tolerated, then dropped) of exactly `bytes` bytes. */
function base64url(bytes: number, what: string) {
  const rule = `must be base64url of ${what} (${bytes} bytes)`;
  return z
    .string({ error: typed(rule) })
    .transform((s) => s.replace(/=+$/, ''))
    .refine((s) => /^[A-Za-z0-9_-]*$/.test(s) && Buffer.from(s, 'base64url').length === bytes, rule);
}

const endpointRule = `must be an https URL of at most ${DEVICE_LIMITS.endpointMaxChars} characters`;

/** A browser's `PushSubscription.toJSON()`: `expirationTime` is accepted and not kept. */
export const webPushInput = z
  .strictObject({
    endpoint: z
      .string({ error: typed(endpointRule) })
      .max(DEVICE_LIMITS.endpointMaxChars, endpointRule)
      .refine((s) => URL.canParse(s) && new URL(s).protocol === 'https:', endpointRule)
      .meta({ description: 'the push service URL of the subscription', example: 'https://fcm.googleapis.com/fcm/send/dXJ…' }),
    expirationTime: z.number({ error: typed('must be a number or null') }).nullable().optional(),
    keys: z.strictObject({
      p256dh: base64url(65, 'an uncompressed P-256 public key')
        .refine((s) => Buffer.from(s, 'base64url')[0] === 0x04, 'must be an uncompressed P-256 point (first byte 0x04)'),
      auth: base64url(16, 'the authentication secret'),
    }, { error: typed('must be an object {p256dh, auth}') }),
  }, { error: typed('must be an object {endpoint, keys: {p256dh, auth}}') })
  .transform(({ endpoint, keys }): WebPushSubscription => ({ endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } }))
  .meta({ description: 'a browser\'s Web Push subscription, as PushSubscription.toJSON() gives it (platform web only, instead of subscriptionId)' });

/** The subscription id of a Web Push subscription: `wp-` and base64url(SHA-256(endpoint)), 46 characters. */
export function webPushSubscriptionId(endpoint: string): string {
  return `wp-${createHash('sha256').update(endpoint).digest('base64url')}`;
}

/**
 * `{subscriptionId, platform}` (a OneSignal subscription), or `{platform: "web", webPush}` (a
 * browser's self-hosted Web Push subscription; its id is derived from the endpoint).
 */
export const registerDeviceBody = z
  .strictObject({ subscriptionId: subscriptionId.optional(), platform, webPush: webPushInput.optional() }, { error: typed('must be a JSON object') })
  .superRefine((body, ctx) => {
    if (body.webPush !== undefined && body.platform !== 'web') ctx.addIssue({ code: 'custom', path: ['webPush'], message: 'is only for platform web' });
    if (body.webPush !== undefined && body.subscriptionId !== undefined) ctx.addIssue({ code: 'custom', path: ['subscriptionId'], message: 'must not be given with webPush (it is derived from the endpoint)' });
    if (body.webPush === undefined && body.subscriptionId === undefined) ctx.addIssue({ code: 'custom', path: ['subscriptionId'], message: body.platform === 'web' ? 'is required, or webPush' : 'is required' });
  })
  .transform(({ subscriptionId: id, platform: p, webPush }) => (webPush === undefined
    ? { subscriptionId: id!, platform: p }
    : { subscriptionId: webPushSubscriptionId(webPush.endpoint), platform: p, webPush }));
export type RegisterDeviceBody = z.output<typeof registerDeviceBody>;

export const deviceParams = z.strictObject({ subscriptionId });
