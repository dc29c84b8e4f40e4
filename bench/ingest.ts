// npm run bench:ingest — the ingestion figures of issue 3, side by side in one run:
// the tracker next to a bare Fastify route, then the kafkastore next to a plain
// kafkajs producer. Needs the local stack (./pushtech stack up).
import { benchKafkastore } from './ingest-kafkastore.ts';
import { benchTracker } from './ingest-tracker.ts';

const log = (line: string) => console.log(line);
const figures = {
  ...(await benchTracker({ log })),
  ...(await benchKafkastore({ log })),
};
console.log('');
for (const [name, value] of Object.entries(figures)) console.log(`${name}=${value}`);
