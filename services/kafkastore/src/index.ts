import { loadConfigOrExit } from '@pushtech/config';
import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger } from '@pushtech/logging';
import { startApp } from './app.ts';
import { configSpec } from './config.ts';

const config = loadConfigOrExit(configSpec);
const logger = createLogger('kafkastore', config.LOG_LEVEL);
const app = await startApp(config, logger);
shutdownOnSignals(logger, [() => app.close()]);
