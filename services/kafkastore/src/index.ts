import { kafkastore } from './app.ts';

await kafkastore.main();
