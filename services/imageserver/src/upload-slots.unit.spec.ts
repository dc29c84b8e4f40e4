import { describe, expect, it } from 'vitest';
import { UploadSlots } from './upload-slots.ts';

describe('UploadSlots', () => {
  it('runs `concurrency` at once, queues up to `maxWaiting`, refuses beyond, and passes freed slots on in order', async () => {
    const slots = new UploadSlots(2, 1);
    const first = await slots.take()!;
    const second = await slots.take()!;
    const third = slots.take();
    expect(third).toBeDefined();
    expect(slots.take()).toBeUndefined();
    expect([slots.busy, slots.queued]).toEqual([2, 1]);

    let thirdRan = false;
    void third!.then(() => { thirdRan = true; });
    first();
    first(); // a second release of the same slot changes nothing
    await Promise.resolve();
    await Promise.resolve();
    expect(thirdRan).toBe(true);
    expect([slots.busy, slots.queued]).toEqual([2, 0]);
    second();
    (await third!)();
    expect([slots.busy, slots.queued]).toEqual([0, 0]);
  });
});
