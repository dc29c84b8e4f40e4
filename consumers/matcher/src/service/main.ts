/**
 * The matcher service: `node consumers/matcher/src/service/main.ts`.
 * Config from the environment (config.ts), then start; SIGTERM drains.
 */
import { loadConfigOrExit } from '@pushtech/config';
import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger } from '@pushtech/logging';
import { startMatcher } from './app.ts';
import { matcherConfigSpec } from './config.ts';

const config = loadConfigOrExit(matcherConfigSpec);
const logger = createLogger('matcher', config.LOG_LEVEL);
const matcher = await startMatcher(config, logger);
shutdownOnSignals(logger, [() => matcher.close()]);
// Without its index the process is of no use: a failed start exits, and the orchestrator restarts it.
matcher.ready.catch(() => process.exit(1));
