// The OneSignal stand-in as a process, for the demo: `node services/onesignal-standin/src/index.ts`.
import { loadConfigOrExit, oneOf, port, string } from '@pushtech/config';
import { shutdownOnSignals } from '@pushtech/lifecycle';
import { createLogger, logLevels } from '@pushtech/logging';
import { startStandin } from './standin.ts';

const config = loadConfigOrExit({
  PORT: port({ default: 8089 }),
  HOST: string({ default: '127.0.0.1' }),
  /** Optional: when set, only this app_id (and this key) are accepted. */
  ONESIGNAL_APP_ID: string({ default: '' }),
  ONESIGNAL_API_KEY: string({ default: '' }),
  LOG_LEVEL: oneOf(logLevels, { default: 'info' }),
});
const logger = createLogger('onesignal-standin', config.LOG_LEVEL);
const standin = await startStandin({
  port: config.PORT,
  host: config.HOST,
  ...(config.ONESIGNAL_APP_ID ? { appId: config.ONESIGNAL_APP_ID } : {}),
  ...(config.ONESIGNAL_API_KEY ? { apiKey: config.ONESIGNAL_API_KEY } : {}),
  onCall: (call) => {
    const body = call.body as { include_aliases?: { external_id?: string[] }; idempotency_key?: string } | null;
    logger.info({ seq: call.seq, status: call.status, scripted: call.scripted, users: body?.include_aliases?.external_id, idempotencyKey: body?.idempotency_key }, 'notification call');
  },
});
logger.info({ url: standin.url, appId: config.ONESIGNAL_APP_ID || '(any)', key: config.ONESIGNAL_API_KEY ? '(checked)' : '(any)' }, `OneSignal stand-in listening: ONESIGNAL_API_ROOT=${standin.apiRoot}`);
shutdownOnSignals(logger, [() => standin.close()]);
