import { loadConfigOrExit } from '@pushtech/config';
import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger } from '@pushtech/logging';
import { storageConfigSpec } from './config.ts';
import { startStorage } from './storage.ts';

const config = loadConfigOrExit(storageConfigSpec);
const logger = createLogger('storage', config.LOG_LEVEL);
const storage = await startStorage(config, logger);
await storage.app.listen({ port: config.PORT, host: config.HOST });
shutdownOnSignals(logger, [() => storage.close()]);
