import { loadConfigOrExit } from '@pushtech/config';
import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger } from '@pushtech/logging';
import { startApp } from './app.ts';
import { statsConfigSpec } from './config.ts';

const config = loadConfigOrExit(statsConfigSpec);
const logger = createLogger('stats', config.LOG_LEVEL);
const app = await startApp(config, logger);
shutdownOnSignals(logger, [() => app.close()]);
