/**
 * The website on the local stack as a browser meets it (for its browser tests and `bench:web`):
 * storage (with its projector), the imageserver, the matcher and the website, each a process,
 * behind the compose file's nginx.conf over HTTPS (a certificate made for the run, which this process
 * trusts from then on; a browser is told to with `launchChromium({ trust: site.ca })`); unique topics
 * and database per run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { signToken } from '@pushtech/auth';
import { freePort, stackAddresses, uniqueName } from '@pushtech/testing';
import { startLocalNginx, trustInThisProcess } from '../../../docker-compose/local-nginx.ts';
import { startService, type RunningService } from '../../../e2e/services.ts';

export const TEST_JWT_SECRET = 'website-test-secret-0123456789abcdefghij';

export interface TestSite {
  /** nginx (`https://127.0.0.1:port`): the site and the API on one origin. */
  base: string;
  /** nginx's self-signed certificate (PEM). */
  ca: string;
  /** A bearer token for `userId`, as storage and the imageserver verify it. */
  token(userId: string): Promise<string>;
  /** POST /listings through nginx as `userId`; the listing as storage answers it. */
  post(userId: string, listing: Record<string, unknown>): Promise<{ id: string } & Record<string, unknown>>;
  /** Storage's listings topic and database (the bench writes a city straight to the log). */
  listingsTopic: string;
  mongoDb: string;
  stop(): Promise<void>;
}

export async function startTestSite(options: { matcher?: boolean; env?: Record<string, string> } = {}): Promise<TestSite> {
  const { kafkaBrokers, mongoUrl } = stackAddresses();
  const names = { listings: uniqueName('listings'), matches: uniqueName('matches'), users: uniqueName('users'), db: uniqueName('website'), projector: uniqueName('projector') };
  const common = { KAFKA_BROKERS: kafkaBrokers.join(','), MONGO_URL: mongoUrl, MONGO_DB: names.db, LISTINGS_TOPIC: names.listings, JWT_SECRET: TEST_JWT_SECRET };
  const imagesDir = mkdtempSync(join(tmpdir(), 'pushtech-website-images-'));
  const ports = { storage: await freePort(), imageserver: await freePort(), website: await freePort(), matcher: await freePort() };
  const services: RunningService[] = [];
  const start = async (entry: string, env: Record<string, string>) => {
    const service = await startService(entry, env);
    services.push(service);
    return service;
  };
  try {
    await Promise.all([
      start('services/storage/src/index.ts', { ...common, PORT: String(ports.storage), MATCHES_TOPIC: names.matches, USERS_TOPIC: names.users, PROJECTOR_GROUP: names.projector }),
      start('services/imageserver/src/index.ts', { JWT_SECRET: TEST_JWT_SECRET, PORT: String(ports.imageserver), IMAGES_DIR: imagesDir }),
      start('services/website/src/index.ts', {
        MONGO_URL: mongoUrl, MONGO_DB: names.db, JWT_SECRET: TEST_JWT_SECRET, PORT: String(ports.website),
        TRUST_PROXY: 'true', PASSWORD_SCRYPT_LOG2_N: '12', ...options.env,
      }),
      options.matcher === true
        ? start('consumers/matcher/src/service/main.ts', { ...common, PORT: String(ports.matcher), MATCHES_TOPIC: names.matches, MATCHER_GROUP: uniqueName('matcher'), PROJECTOR_GROUP: names.projector })
        : undefined,
    ]);
  } catch (error) {
    await Promise.all(services.map((service) => service.stop()));
    throw error;
  }
  const nginx = await startLocalNginx({ storage: ports.storage, imageserver: ports.imageserver, website: ports.website });
  trustInThisProcess(nginx.ca);
  const token = (userId: string) => signToken(userId, TEST_JWT_SECRET);
  return {
    base: nginx.https,
    ca: nginx.ca,
    token,
    listingsTopic: names.listings,
    mongoDb: names.db,
    async post(userId, listing) {
      const send = async () => fetch(`${nginx.https}/listings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await token(userId)}`, 'content-type': 'application/json' },
        body: JSON.stringify(listing),
      });
      let answer = await send();
      // nginx limits writes from one address (5 a second): a seeding loop waits as it is told.
      for (let tries = 0; answer.status === 429 && tries < 10; tries++) {
        await sleep(Number(answer.headers.get('retry-after') ?? 1) * 1000);
        answer = await send();
      }
      if (answer.status !== 201) throw new Error(`POST /listings answered ${answer.status}: ${await answer.text()}`);
      return await answer.json() as { id: string };
    },
    async stop() {
      await nginx.stop();
      await Promise.all(services.map((service) => service.stop()));
      rmSync(imagesDir, { recursive: true, force: true });
    },
  };
}
