/**
 * What the `/me/devices` routes accept, as zod schemas: each rule's message is
 * the `rule` of the 400 answer (`{ field, rule }`); the OpenAPI document is
 * generated from the same schemas.
 */
import { z } from 'zod';
import { PLATFORMS } from '@pushtech/contracts';

export const DEVICE_LIMITS = { subscriptionIdMaxChars: 128 } as const;

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

export const registerDeviceBody = z.strictObject({ subscriptionId, platform }, { error: typed('must be a JSON object') });
export type RegisterDeviceBody = z.output<typeof registerDeviceBody>;

export const deviceParams = z.strictObject({ subscriptionId });
