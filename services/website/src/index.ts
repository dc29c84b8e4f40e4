import { website } from './website.ts';

await website.main();
