import { kafidx } from './kafidx.ts';

await kafidx.main();
