import { tracker } from './app.ts';

await tracker.main();
