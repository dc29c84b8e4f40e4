/**
 * The notifier's responses to the bridge's requests (RESPONSE_TOPIC;
 * `NotifyResponse` of @pushtech/contracts): counted by type; a failure is
 * logged with its reason (`status 400`, `gave up after …`). The bridge does
 * not retry failures: the notifier already retried what can be retried (5xx,
 * 429, 401).
 */
import { notifyResultsTopic } from '@pushtech/contracts';
import type { ConsumedMessage } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import type { BridgeMetrics } from './metrics.ts';

export function responseHandler(options: { metrics: BridgeMetrics; logger: Logger }) {
  const { metrics, logger } = options;
  return function handle(messages: ConsumedMessage[]): void {
    for (const message of messages) {
      const decoded = notifyResultsTopic.decode(message.value);
      if (!decoded.ok) {
        metrics.responses.inc({ type: 'invalid' });
        logger.warn({ topic: message.topic, partition: message.partition, offset: message.offset, errors: decoded.errors }, 'response skipped: not a notifier response');
        continue;
      }
      const response = decoded.value;
      metrics.responses.inc({ type: response.type });
      if (response.type === 'failure') logger.warn({ uuid: response.uuid, reason: response.reason }, 'the notifier could not send a push');
      else logger.debug({ uuid: response.uuid, type: response.type }, 'push sent');
    }
  };
}
