import { notifier } from './app.ts';

await notifier.main();
