import type { TopicSpec } from '@pushtech/kafka';

/**
 * Topic `users`: the log of record for what belongs to a user and is not a
 * listing — for now the devices that may receive pushes (`device.registered`,
 * `device.removed`). Key: the user id (one user's events stay in order on one
 * partition). Kept forever: the `devices` projection is rebuilt from it.
 */
export const usersTopic = { name: 'users', partitions: 6, retentionMs: -1 } as const satisfies TopicSpec;
