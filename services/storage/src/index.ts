import { storage } from './storage.ts';

await storage.main();
