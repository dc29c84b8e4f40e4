import { offerserver } from './offerserver.ts';

await offerserver.main();
