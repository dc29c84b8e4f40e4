import type { Logger } from '@pushtech/logging';

export type Closer = () => Promise<unknown> | unknown;

/**
 * On SIGTERM or SIGINT, runs `closers` in order (each drains its own work),
 * then exits 0; a second signal or a closer taking over `timeoutMs` exits 1.
 */
export function shutdownOnSignals(logger: Logger, closers: Closer[], timeoutMs = 30_000): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    try {
      for (const close of closers) await close();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error while shutting down');
      process.exit(1);
    }
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
