/** What other packages (the demo, tests) may import from @pushtech/storage. */
export { signToken, verifyToken, DEFAULT_TOKEN_LIFETIME } from '@pushtech/auth';
export { storage, storageService, storageTopics, type RunningStorage, type StorageOptions } from './storage.ts';
export { storageConfigSpec, type StorageConfig } from './config.ts';
export { rebuildProjections, type RebuildOptions, type RebuildResult } from './rebuild-projections.ts';
