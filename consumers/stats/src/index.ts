import { stats } from './stats.ts';

await stats.main();
