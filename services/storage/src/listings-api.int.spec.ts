import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalIssuer, topicLength, waitFor, type LocalIssuer } from '@pushtech/testing';
import { listingBody, startTestStorage, testSettings, type TestStorage } from './test-storage.ts';

const OIDC_AUDIENCE = 'pushtech-app';
let idp: LocalIssuer;
let storage: TestStorage;
let alice: { authorization: string };
let bob: { authorization: string };

// The operator's OIDC issuer is configured: our HS256 tokens are taken as before, the issuer's beside them.
beforeAll(async () => {
  idp = await startLocalIssuer(OIDC_AUDIENCE);
  storage = await startTestStorage(testSettings({ OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE }));
  alice = { authorization: `Bearer ${await storage.token('alice')}` };
  bob = { authorization: `Bearer ${await storage.token('bob')}` };
});

afterAll(async () => {
  await storage?.stop();
  await idp?.close();
});

async function create(headers = alice, body: object = listingBody()) {
  const res = await storage.app.inject({ method: 'POST', url: '/listings', headers, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('create and read (read-your-writes)', () => {
  it('answers 201 once the projection has it: an immediate GET sees it', async () => {
    const res = await storage.app.inject({
      method: 'POST', url: '/listings', headers: alice,
      payload: listingBody({ description: 'gut erhalten', expiresAt: '2099-06-01T12:00:00+02:00', follow: true }),
    });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(res.headers.location).toBe(`/listings/${created.id}`);
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      kind: 'offer',
      ownerId: 'alice',
      title: 'Kinderfahrrad',
      description: 'gut erhalten',
      tags: ['blau'],
      location: { type: 'Point', coordinates: [13.405, 52.52] },
      radiusM: 1_000,
      follow: true,
      status: 'active',
      imageIds: [],
      expiresAt: '2099-06-01T10:00:00.000Z',
      version: 1,
    });
    const read = await storage.app.inject({ url: `/listings/${created.id}` });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(created);
  });

  it('keeps Mongo\'s _id and the derived fields out of answers, and stores them in Mongo', async () => {
    const created = await create();
    expect(Object.keys(created)).not.toEqual(expect.arrayContaining(['_id']));
    for (const field of ['_id', 'cells', 'terms', 'eventIds', 'updatedAt']) expect(created).not.toHaveProperty(field);
    const doc = await storage.mongo.db(storage.settings.MONGO_DB).collection('listings').findOne({ _id: created.id } as never);
    expect(doc).toMatchObject({ _id: created.id, terms: ['kinderfahrrad', 'blau'], eventIds: [expect.any(String)] });
  });
});

describe('PATCH and DELETE', () => {
  it('edits, moves, pauses, resumes and closes; every answer shows the change', async () => {
    const { id } = await create();
    const patch = (payload: object, headers = alice) => storage.app.inject({ method: 'PATCH', url: `/listings/${id}`, headers, payload });

    let res = await patch({ title: 'Rad', tags: ['rot', 'klein'], radiusM: 2_500, description: 'neu' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ title: 'Rad', tags: ['rot', 'klein'], radiusM: 2_500, description: 'neu', version: 2 });

    res = await patch({ location: { type: 'Point', coordinates: [13.5, 52.4] } });
    expect(res.json()).toMatchObject({ location: { type: 'Point', coordinates: [13.5, 52.4] }, version: 3 });

    res = await patch({ status: 'paused' });
    expect(res.json()).toMatchObject({ status: 'paused', version: 4 });
    res = await patch({ status: 'active', description: null });
    expect(res.json()).toMatchObject({ status: 'active', version: 5 });
    expect(res.json()).not.toHaveProperty('description');

    res = await patch({ title: 'Rad' });
    expect(res.statusCode).toBe(200);
    expect(res.json().version).toBe(5); // nothing changed: no event

    res = await storage.app.inject({ method: 'DELETE', url: `/listings/${id}`, headers: alice });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'closed', version: 6 });
    expect((await storage.app.inject({ url: `/listings/${id}` })).json()).toMatchObject({ status: 'closed', version: 6 });

    res = await storage.app.inject({ method: 'DELETE', url: `/listings/${id}`, headers: alice });
    expect(res.statusCode).toBe(200); // closing twice changes nothing
    expect(res.json().version).toBe(6);
    res = await patch({ status: 'active' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: 'listing_closed', errors: [{ field: 'id' }] });
  });

  it('403 for someone else\'s listing, and nothing changes', async () => {
    const { id } = await create();
    const patched = await storage.app.inject({ method: 'PATCH', url: `/listings/${id}`, headers: bob, payload: { title: 'Mine now' } });
    expect(patched.statusCode).toBe(403);
    expect(patched.json()).toEqual({ error: 'forbidden', errors: [{ field: 'id', rule: 'must be a listing of the token\'s user' }] });
    const deleted = await storage.app.inject({ method: 'DELETE', url: `/listings/${id}`, headers: bob });
    expect(deleted.statusCode).toBe(403);
    expect((await storage.app.inject({ url: `/listings/${id}` })).json()).toMatchObject({ title: 'Kinderfahrrad', status: 'active', version: 1 });
  });

  it('404 for a listing that does not exist', async () => {
    const res = await storage.app.inject({ method: 'DELETE', url: '/listings/0197f0a0-0000-7000-8000-000000000000', headers: alice });
    expect(res.statusCode).toBe(404);
  });
});

describe('tokens of the operator\'s OIDC issuer', () => {
  it('an RS256 token creates a listing owned by oidc:<sub>, as the website names that user; an HS256 token for the bare sub does not own it', async () => {
    const viaIssuer = { authorization: `Bearer ${await idp.sign({ sub: 'dora' })}` };
    const created = await create(viaIssuer);
    expect(created.ownerId).toBe('oidc:dora');
    expect((await storage.app.inject({ url: '/listings?ownerId=oidc:dora' })).json().items.map((l: { id: string }) => l.id)).toEqual([created.id]);

    const patch = (headers: { authorization: string }, title: string) => storage.app.inject({ method: 'PATCH', url: `/listings/${created.id}`, headers, payload: { title } });
    const bareSub = { authorization: `Bearer ${await storage.token('dora')}` };
    expect((await patch(bareSub, 'Not hers')).statusCode).toBe(403);
    // What the website's POST /account/token gives the same user: an HS256 token for oidc:dora.
    const fromWebsite = { authorization: `Bearer ${await storage.token('oidc:dora')}` };
    expect((await patch(fromWebsite, 'Hers')).json()).toMatchObject({ ownerId: 'oidc:dora', title: 'Hers', version: 2 });
    expect((await patch(viaIssuer, 'Still hers')).json()).toMatchObject({ title: 'Still hers', version: 3 });
  });

  it('refuses an issuer token for another audience: 401 naming the claim', async () => {
    const res = await storage.app.inject({ method: 'POST', url: '/listings', headers: { authorization: `Bearer ${await idp.sign({ sub: 'dora' }, { audience: 'someone-else' })}` }, payload: listingBody() });
    expect([res.statusCode, res.json()]).toEqual([401, { error: 'unauthorized', errors: [{ field: 'authorization', rule: 'the token\'s aud is not valid: check_failed' }] }]);
  });
});

describe('GET /listings?ownerId', () => {
  it('lists an owner\'s listings newest first, page by page, and filters by status', async () => {
    const carol = { authorization: `Bearer ${await storage.token('carol')}` };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(carol, listingBody({ title: `Ding ${i}` }))).id);
    await create(); // alice's: not carol's
    await storage.app.inject({ method: 'PATCH', url: `/listings/${ids[1]}`, headers: carol, payload: { status: 'paused' } });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { statusCode: number; json(): { items: { id: string; ownerId: string }[]; nextCursor: string | null } } =
        await storage.app.inject({ url: `/listings?ownerId=carol&limit=2${cursor ? `&cursor=${cursor}` : ''}` });
      expect(res.statusCode).toBe(200);
      const page = res.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((l) => { expect(l.ownerId).toBe('carol'); return l.id; }));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([...ids].reverse());

    const paused = (await storage.app.inject({ url: '/listings?ownerId=carol&status=paused' })).json();
    expect(paused.items.map((l: { id: string }) => l.id)).toEqual([ids[1]]);
    expect((await storage.app.inject({ url: '/listings?ownerId=nobody' })).json()).toEqual({ items: [], nextCursor: null });
  });
});

describe('concurrent writes and slow projections', () => {
  const topicEnd = (storage: TestStorage) => topicLength(storage.kafka, storage.settings.LISTINGS_TOPIC);

  it('a write the projection does not show in time answers 202 and is applied later; of two writes on one version the first in the log wins, the other gets 409', async () => {
    // Instances without a projector: their commands are recorded but not projected until one runs.
    const settings = testSettings({ READ_YOUR_WRITES_TIMEOUT_MS: 30_000 });
    const writer = await startTestStorage(settings, { projector: false });
    const impatient = await startTestStorage({ ...settings, READ_YOUR_WRITES_TIMEOUT_MS: 300 }, { projector: false });
    let projecting: TestStorage | undefined;
    const startProjecting = async () => { projecting = await startTestStorage(settings); };
    const stopProjecting = async () => { await projecting?.stop({ keepDatabase: true }); projecting = undefined; };
    const read = async () => (await writer.app.inject({ url: '/listings/concurrent1' })).json();
    try {
      const headers = { authorization: `Bearer ${await writer.token('dave')}` };
      await writer.produceListingEvent({
        type: 'listing.created',
        data: { id: 'concurrent1', kind: 'offer', ownerId: 'dave', title: 'Lampe', tags: [], location: { type: 'Point', coordinates: [13.4, 52.5] }, radiusM: 500, follow: false, status: 'active', imageIds: [], version: 1 },
      });
      await startProjecting();
      await waitFor(async () => ((await read()).version === 1 ? true : undefined), 'the listing');
      await stopProjecting();

      // 202: recorded, not visible in time; never lost: the next projector applies it.
      const slow = await impatient.app.inject({ method: 'PATCH', url: '/listings/concurrent1', headers, payload: { title: 'Lampe C' } });
      expect(slow.statusCode).toBe(202);
      expect(slow.json()).toEqual({ id: 'concurrent1', version: 2, applied: false, message: expect.stringContaining('GET /listings/concurrent1') });
      expect(await read()).toMatchObject({ title: 'Lampe', version: 1 });
      await startProjecting();
      await waitFor(async () => ((await read()).version === 2 ? true : undefined), 'the 202 write applied');
      expect(await read()).toMatchObject({ title: 'Lampe C', version: 2 });
      await stopProjecting();

      // 409: both read version 2 and write version 3; only the first in the log applies.
      const end = await topicEnd(writer);
      const first = writer.app.inject({ method: 'PATCH', url: '/listings/concurrent1', headers, payload: { title: 'Lampe A' } });
      const second = writer.app.inject({ method: 'PATCH', url: '/listings/concurrent1', headers, payload: { title: 'Lampe B' } });
      await waitFor(async () => ((await topicEnd(writer)) === end + 2 ? true : undefined), 'both writes recorded');
      await startProjecting();
      const answers = await Promise.all([first, second]);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
      const winner = answers.find((a) => a.statusCode === 200)!.json();
      const loser = answers.find((a) => a.statusCode === 409)!.json();
      expect(loser).toEqual({ error: 'conflict', errors: [{ field: 'version', rule: expect.stringContaining('changed concurrently') }] });
      expect(winner).toMatchObject({ version: 3 });
      expect(await read()).toEqual(winner);
    } finally {
      await stopProjecting().catch(() => {});
      await impatient.stop({ keepDatabase: true });
      await writer.stop();
    }
  }, 120_000);
});

describe('health and metrics', () => {
  it('/readyz checks Kafka and Mongo; /metrics counts commands, projection and read-your-writes waits', async () => {
    const ready = await storage.app.inject({ url: '/readyz' });
    expect(ready.json()).toEqual({ status: 'ready', checks: { mongo: 'ok', started: 'ok', kafka: 'ok' } });
    const metrics = (await storage.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/storage_commands_total\{command="createListing",outcome="applied"[^}]*\} \d+/);
    expect(metrics).toMatch(/storage_commands_total\{command="changeListing",outcome="forbidden"/);
    expect(metrics).toMatch(/storage_projection_events_total\{topic="listings",outcome="applied"[^}]*\} \d+/);
    expect(metrics).toMatch(/storage_projection_last_applied_timestamp_seconds\{topic="listings"/);
    expect(metrics).toMatch(/storage_read_your_writes_wait_seconds_count\{[^}]*outcome="applied"[^}]*\} \d+/);
  });
});
