/**
 * A device command from the API to its answer: read who has the subscription
 * from the projection, decide, append the event to Kafka `users` (acks=all:
 * from here on it is never lost), then wait for the projection to show it
 * (read-your-writes), as listing commands do.
 */
import { activeDevice, usersTopic, type DeviceDocument } from '@pushtech/contracts';
import type { Producer } from '@pushtech/kafka';
import type { Logger } from '@pushtech/logging';
import { UnavailableError } from '@pushtech/service';
import { decide, type DeviceCommand } from './device-decider.ts';
import { toDeviceView, type DeviceView } from './device-document.ts';
import type { DeviceStore } from './device-store.ts';
import type { StorageMetrics } from './metrics.ts';
import { awaitDocument, deviceSignalKey, type AppliedSignal, type Projected } from './read-your-writes.ts';

export interface DeviceCommandDeps {
  store: DeviceStore;
  producer: Producer;
  usersTopic: string;
  signal: AppliedSignal;
  readYourWritesTimeoutMs: number;
  metrics: StorageMetrics;
  logger: Logger;
}

export type DeviceCommandResult =
  /** The event is in the projection; `device` is what it shows now (null after a removal). */
  | { outcome: 'applied'; device: DeviceView | null }
  /** The command changed nothing (no event): already registered so, or nothing to remove. */
  | { outcome: 'unchanged'; device: DeviceView | null }
  /** The event is on Kafka but the projection did not show it in time. */
  | { outcome: 'accepted' }
  /** A newer registration of the same subscription (another request) won: this one will never apply. */
  | { outcome: 'conflict' };

/** When the projection shows the command's event `eventId`: applied, or overtaken (conflict). */
function projectedCheck(command: DeviceCommand, eventId: string) {
  return (doc: DeviceDocument | null): Exclude<Projected, 'timeout'> | undefined => {
    if (doc?.eventIds.includes(eventId)) return 'applied';
    if (command.type === 'registerDevice') return doc !== null && doc.registrationId > eventId ? 'conflict' : undefined;
    // A removal is done once the user does not have the subscription, whichever event did it.
    return doc === null || doc.state !== 'active' || doc.userId !== command.data.userId ? 'applied' : undefined;
  };
}

export async function runDeviceCommand(deps: DeviceCommandDeps, command: DeviceCommand): Promise<DeviceCommandResult> {
  const { store, metrics } = deps;
  const count = (outcome: string) => metrics.commands.inc({ command: command.type, outcome });
  const { subscriptionId } = command.data;
  try {
    const current = await store.get(subscriptionId);
    const [event] = decide(command, activeDevice(current));
    if (event === undefined) {
      count('unchanged');
      return { outcome: 'unchanged', device: command.type === 'registerDevice' && current !== null ? toDeviceView(current) : null };
    }
    const { envelope, key, value } = usersTopic.encode(event);
    try {
      await deps.producer.send(deps.usersTopic, [{ key, value }]);
    } catch (err) {
      throw new UnavailableError('kafka', err);
    }
    const started = performance.now();
    let seen: DeviceDocument | null = null;
    const projected = await awaitDocument({
      read: async () => (seen = await store.get(subscriptionId)),
      check: projectedCheck(command, envelope.id),
      signal: deps.signal,
      signalKey: deviceSignalKey(subscriptionId),
      timeoutMs: deps.readYourWritesTimeoutMs,
    });
    metrics.readYourWritesSeconds.observe({ outcome: projected }, (performance.now() - started) / 1000);
    if (projected === 'timeout') {
      deps.logger.warn({ subscriptionId, eventId: envelope.id, timeoutMs: deps.readYourWritesTimeoutMs }, 'projection too slow: answered 202');
      count('accepted');
      return { outcome: 'accepted' };
    }
    if (projected === 'conflict') {
      deps.logger.info({ subscriptionId, eventId: envelope.id, type: event.type }, 'concurrent registration: answered 409');
      count('conflict');
      return { outcome: 'conflict' };
    }
    count('applied');
    const doc = seen as DeviceDocument | null;
    return { outcome: 'applied', device: doc !== null && doc.state === 'active' ? toDeviceView(doc) : null };
  } catch (err) {
    count('failed');
    throw err;
  }
}
