import { loadConfigOrExit } from '@pushtech/config';
import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger } from '@pushtech/logging';
import { createApp } from './app.ts';
import { imageserverConfigSpec } from './config.ts';

const config = loadConfigOrExit(imageserverConfigSpec);
const logger = createLogger('imageserver', config.LOG_LEVEL);
const app = await createApp(config, logger);
const url = await app.http.listen({ port: config.PORT, host: config.HOST });
logger.info({ url, imagesDir: config.IMAGES_DIR }, 'listening');
shutdownOnSignals(logger, [() => app.close()]);
