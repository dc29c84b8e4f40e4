import { loadConfigOrExit } from '@pushtech/config';
import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger } from '@pushtech/logging';
import { startBridge } from './app.ts';
import { bridgeConfigSpec } from './config.ts';

const config = loadConfigOrExit(bridgeConfigSpec);
const logger = createLogger('notify-bridge', config.LOG_LEVEL);
const bridge = await startBridge(config, logger);
shutdownOnSignals(logger, [() => bridge.close()]);
