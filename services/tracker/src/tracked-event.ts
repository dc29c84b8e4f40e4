import type { TrackedEvent, TrackerContext } from '@pushtech/contracts';
import { createEnvelope } from '@pushtech/events';
import type { ValidEvent } from './event-rules.ts';

/** What the tracker knows about the request an event came in. */
export interface Receipt {
  ip: string;
  userAgent?: string;
  receivedAt: Date;
}

/** The envelope written to the stream: the tracker's id, receive time and request context around the client's event. */
export function toTrackedEvent(event: ValidEvent, source: string, receipt: Receipt): TrackedEvent {
  const context: TrackerContext = { ip: receipt.ip };
  if (receipt.userAgent !== undefined) context.userAgent = receipt.userAgent;
  if (event.clientTime !== undefined) context.clientTime = event.clientTime;
  if (event.userId !== undefined) context.userId = event.userId;
  if (event.anonymousId !== undefined) context.anonymousId = event.anonymousId;
  const subject = event.userId ?? event.anonymousId;
  return createEnvelope({
    source,
    type: event.type,
    time: receipt.receivedAt,
    data: { ...event.data, context },
    ...(subject === undefined ? {} : { subject }),
    ...(event.id === undefined ? {} : { id: event.id }),
  });
}
