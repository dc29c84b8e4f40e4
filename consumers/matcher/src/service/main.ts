/** The matcher service: `node consumers/matcher/src/service/main.ts` (app.ts). */
import { matcher } from './app.ts';

await matcher.main();
