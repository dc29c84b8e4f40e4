import { imageserver } from './app.ts';

await imageserver.main();
