import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger } from '@pushtech/logging';
import { startApp } from './app.ts';
import { loadNotifierConfigOrExit } from './config.ts';

const config = loadNotifierConfigOrExit();
const logger = createLogger('notifier', config.LOG_LEVEL);
const app = await startApp(config, logger);
shutdownOnSignals(logger, [() => app.close()]);
