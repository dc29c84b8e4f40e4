import { notifyBridge } from './app.ts';

await notifyBridge.main();
