/** What other packages (the demo, tests) may import from @pushtech/storage. */
export { signToken, verifyToken, DEFAULT_TOKEN_LIFETIME } from '@pushtech/auth';
export { storage, storageService, storageTopics, type RunningStorage, type StorageOptions } from './storage.ts';
export { storageConfigSpec, type StorageConfig } from './config.ts';
export { rebuildProjections, type RebuildOptions, type RebuildResult } from './rebuild-projections.ts';
export { evolveDeviceDocument, type DeviceDocument } from './device-document.ts';
export type { DeviceEvent } from './device-decider.ts';
export { parseUserRecord, userRecord, type Recorded } from './records.ts';
export { usersTopic } from './users-topic.ts';
