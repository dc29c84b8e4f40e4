import { expect, it } from 'vitest';
import { uniqueName, uniqueNameOrigin } from './index.ts';

// The cleanup at the end of a run deletes the topics carrying its run tag: that only works if
// the tag the global setup chose reaches the workers that make the names.
it('test workers make names with the run tag of the global setup', () => {
  expect(process.env.PUSHTECH_TEST_RUN).toMatch(/^[0-9a-f]{2}$/);
  expect(uniqueNameOrigin(uniqueName('x'))?.run).toBe(process.env.PUSHTECH_TEST_RUN);
});
