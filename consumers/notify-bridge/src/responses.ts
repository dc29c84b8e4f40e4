/**
 * The notifier's responses to the bridge's requests (RESPONSE_TOPIC; services/
 * notifier/README.md, "Responses"): counted by type; a failure is logged with
 * its reason (`status 400`, `gave up after …`). The bridge does not retry
 * failures: the notifier already retried what can be retried (5xx, 429, 401).
 */
import type { ConsumedMessage } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { BridgeMetrics } from './metrics.ts';

const TYPES = new Set(['success', 'failure', 'copy']);

interface Response {
  type?: unknown;
  uuid?: unknown;
  reason?: unknown;
  info?: unknown;
}

export function responseHandler(options: { metrics: BridgeMetrics; logger: Logger }) {
  const { metrics, logger } = options;
  return function handle(messages: ConsumedMessage[]): void {
    for (const message of messages) {
      let response: Response | undefined;
      try {
        response = JSON.parse(message.value?.toString('utf8') ?? '') as Response;
      } catch {
        response = undefined;
      }
      if (response === undefined || response === null || typeof response.type !== 'string' || !TYPES.has(response.type)) {
        metrics.responses.inc({ type: 'invalid' });
        logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset }, 'response skipped: not a notifier response');
        continue;
      }
      metrics.responses.inc({ type: response.type });
      if (response.type === 'failure') logger.warn({ uuid: response.uuid, reason: response.reason }, 'the notifier could not send a push');
      else logger.debug({ uuid: response.uuid, type: response.type }, 'push sent');
    }
  };
}
