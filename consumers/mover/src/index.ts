import { mover } from './mover.ts';

await mover.main();
