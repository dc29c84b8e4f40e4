import type { KafkaAdmin } from '@pushtech/kafka';
import { committedOffsets, startAfter, watermarks, type Offsets } from './offsets.ts';

/**
 * Where to read `topic` from after loading storage's projection: the offsets
 * the storage projector (group `projectorGroup`) has committed, or the
 * beginning where it has none. Read them BEFORE the projection's documents:
 * the documents are then at least as new, and the events read twice are
 * ignored by version.
 */
export async function projectorStart(admin: KafkaAdmin, projectorGroup: string, topic: string): Promise<Offsets> {
  return startAfter(await committedOffsets(admin, projectorGroup, topic), await watermarks(admin, topic));
}
