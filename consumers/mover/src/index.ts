import { loadConfigOrExit } from '@pushtech/config';
import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger } from '@pushtech/logging';
import { startMover } from './app.ts';
import { moverConfigSpec } from './config.ts';

const config = loadConfigOrExit(moverConfigSpec);
const logger = createLogger('mover', config.LOG_LEVEL);
const mover = await startMover(config, logger);
shutdownOnSignals(logger, [() => mover.close()]);
