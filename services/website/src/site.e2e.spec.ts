// The website in real Chromium (Debian's, driven by playwright-core) on the real stack: storage,
// the imageserver, the matcher and the website behind the compose file's nginx.conf. Screenshots
// of the pages at desktop and phone widths go to test-results/website/.
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createECDH } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../e2e/browser.ts';
import { startTestSite, type TestSite } from './test-site.ts';

// What page.evaluate's callbacks use runs in the browser: its globals, typed loosely here (Node's program has no DOM library).
declare const document: any;
declare const navigator: any;
declare const localStorage: any;
declare const sessionStorage: any;

const root = fileURLToPath(new URL('../../../', import.meta.url));
const shots = `${root}test-results/website`;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const CENTER = { lat: 52.52, lng: 13.405 };
/** A point `eastM` metres east of the centre. */
const east = (eastM: number) => [CENTER.lng + eastM / (111_320 * Math.cos((CENTER.lat * Math.PI) / 180)), CENTER.lat];
const XSS_TITLE = '<img src=x onerror=alert(1)>';
const PASSWORD = 'correct horse battery staple';
/** The public half of a VAPID pair (what the notifier's `vapid-keys` prints as VAPID_PUBLIC_KEY). */
const VAPID_PUBLIC_KEY = (() => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return ecdh.getPublicKey().toString('base64url');
})();
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

/** A small PNG of one colour, made here (no image library needed). */
function png(width: number, height: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3).map((_, i) => rgb[i % 3]!)]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

let site: TestSite;
let browser: Browser;
/** Offers seeded east of the centre, nearest first: every 150 m, every third about a bike. */
const offers: { id: string; title: string; distanceM: number; bike: boolean }[] = [];
let xssId: string;
let photoListingId: string;

async function newPage(context?: BrowserContext): Promise<Page> {
  const page = await (context ?? await browser.newContext({ viewport: DESKTOP })).newPage();
  page.on('dialog', (dialog) => {
    throw new Error(`a dialog opened: ${dialog.message()}`);
  });
  return page;
}

/** The URL an image shows once it is loaded ('' before). */
const loadedSrc = (image: Locator) => image.evaluate((element) => {
  const img = element as unknown as { complete: boolean; naturalWidth: number; currentSrc: string };
  return img.complete && img.naturalWidth > 0 ? img.currentSrc : '';
});

const titles = (page: Page) => page.locator('#list li .title').allTextContents();

async function search(page: Page, place: string, radiusM: number, q: string): Promise<void> {
  await page.fill('#place', place);
  await page.selectOption('#radius', String(radiusM));
  await page.fill('#q', q);
  await page.click('#search button[type="submit"]');
  await expect.poll(() => page.locator('#status').textContent()).toMatch(/within|No /);
}

async function signUp(page: Page, email: string): Promise<void> {
  await page.goto(`${site.base}/signup`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('#account-form button[type="submit"]');
  await page.waitForURL(`${site.base}/my`);
  await page.locator('#account-nav .user').waitFor();
}

/** axe-core in the page (evaluated through the DevTools protocol: the CSP rightly refuses inline scripts). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

beforeAll(async () => {
  site = await startTestSite({ matcher: true, env: { VAPID_PUBLIC_KEY } });
  for (let i = 0; i < 25; i++) {
    const bike = i % 3 === 0;
    const title = bike ? `Bike ${i}` : `Chair ${i}`;
    const listing = await site.post('seller', { kind: 'offer', title, tags: bike ? ['bike'] : ['furniture'], location: { type: 'Point', coordinates: east(150 + i * 150) }, radiusM: 5000 });
    offers.push({ id: listing.id, title, distanceM: 150 + i * 150, bike });
  }
  xssId = (await site.post('mallory', { kind: 'offer', title: XSS_TITLE, description: '<script>alert(2)</script>', tags: ['<b>x</b>'], location: { type: 'Point', coordinates: east(4000) }, radiusM: 5000 })).id;
  for (const [i, title] of ['Looking for a lamp', 'Need a ladder', 'Wanted: piano'].entries()) {
    await site.post('seeker', { kind: 'search', title, tags: [], location: { type: 'Point', coordinates: east(300 + i * 100) }, radiusM: 3000 });
  }
  const upload = await fetch(`${site.base}/images`, { method: 'POST', headers: { authorization: `Bearer ${await site.token('seller')}`, 'content-type': 'image/png' }, body: new Uint8Array(png(320, 240, [40, 120, 200])) });
  expect(upload.status).toBe(201);
  const image = await upload.json() as { id: string };
  photoListingId = (await site.post('seller', { kind: 'offer', title: 'Blue lamp', description: 'A lamp, blue.', tags: ['lamp', 'light'], imageIds: [image.id], location: { type: 'Point', coordinates: east(50) }, radiusM: 5000 })).id;
  browser = await launchChromium({ trust: site.ca });
  mkdirSync(shots, { recursive: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await site?.stop();
});

describe('the website, nearby', () => {
  let page: Page;

  it('finds offers within the radius that match the query, nearest first; the address holds the search', async () => {
    page = await newPage();
    await page.goto(`${site.base}/`);
    await expect.poll(() => page.locator('#status').textContent()).toContain('Where are you?');
    await search(page, '52.52, 13.405', 2000, 'bike');
    const expected = offers.filter((o) => o.bike && o.distanceM <= 2000).map((o) => o.title);
    expect(expected.length).toBeGreaterThan(2);
    await expect.poll(() => titles(page)).toEqual(expected);
    const url = new URL(page.url());
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ lat: '52.52000', lng: '13.40500', r: '2000', q: 'bike', kind: 'offer' });
    expect(await page.locator('#list li .meta').first().textContent()).toMatch(/^150 m · (just now|\d+ min ago)$/);
  }, 60_000);

  it('keeps the list and the map in sync: a marker per item; a click on a marker selects its item, hovering an item its marker', async () => {
    const ids = await page.locator('#list li').evaluateAll((items) => items.map((li) => li.getAttribute('data-id')!));
    await expect.poll(() => page.locator('path.listing-marker').count()).toBe(ids.length);
    await page.locator(`path.m-${ids[1]}`).click({ force: true });
    await expect.poll(() => page.locator(`#list li[data-id="${ids[1]}"]`).getAttribute('class')).toContain('selected');
    await page.locator(`#list li[data-id="${ids[2]}"]`).hover();
    await expect.poll(() => page.locator(`path.m-${ids[2]}`).getAttribute('class')).toContain('selected');
    expect(await page.locator(`path.m-${ids[1]}`).getAttribute('class')).not.toContain('selected');
  }, 30_000);

  it('pages by cursor with "More results"; the back button returns to the previous search', async () => {
    await search(page, '52.52, 13.405', 5000, '');
    await expect.poll(() => page.locator('#list li').count()).toBe(20);
    expect(await page.locator('#more').isVisible()).toBe(true);
    await page.click('#more');
    // 25 offers, the lamp and the XSS one (4 km): all within 5 km.
    await expect.poll(() => page.locator('#list li').count()).toBe(27);
    expect(await page.locator('#more').isHidden()).toBe(true);
    const ids = await page.locator('#list li').evaluateAll((items) => items.map((li) => li.getAttribute('data-id')));
    expect(new Set(ids).size).toBe(27);

    // Back: the radius change (applied at once), then the search before it.
    await page.goBack();
    await expect.poll(() => titles(page)).toEqual(offers.filter((o) => o.bike && o.distanceM <= 5000).map((o) => o.title));
    expect(new URL(page.url()).searchParams.get('r')).toBe('5000');
    await page.goBack();
    await expect.poll(() => new URL(page.url()).searchParams.get('r')).toBe('2000');
    await expect.poll(() => titles(page)).toEqual(offers.filter((o) => o.bike && o.distanceM <= 2000).map((o) => o.title));
    expect(await page.inputValue('#q')).toBe('bike');
    expect(await page.inputValue('#radius')).toBe('2000');
  }, 60_000);

  it('shows what people nearby look for with the toggle', async () => {
    await page.fill('#q', '');
    await page.click('#search button[type="submit"]');
    await page.check('input[name="kind"][value="search"]');
    await expect.poll(() => titles(page)).toEqual(['Looking for a lamp', 'Need a ladder', 'Wanted: piano']);
    expect(new URL(page.url()).searchParams.get('kind')).toBe('search');
  }, 30_000);

  it('shows a title, description and tag full of markup as text: nothing runs, no element is made', async () => {
    const shown = await newPage();
    await shown.goto(`${site.base}/?lat=52.52&lng=13.405&r=5000&q=onerror`);
    await expect.poll(() => titles(shown)).toEqual([XSS_TITLE]);
    expect(await shown.locator('img[src="x"]').count()).toBe(0);
    await shown.click('#list li a');
    await shown.waitForURL(new RegExp(`/l/${xssId}`));
    await expect.poll(() => shown.locator('#title').textContent()).toBe(XSS_TITLE);
    expect(await shown.locator('.description').textContent()).toBe('<script>alert(2)</script>');
    expect(await shown.locator('.tags li').textContent()).toBe('<b>x</b>');
    expect(await shown.locator('main img[src="x"], main b').count()).toBe(0);
    await shown.context().close();
  }, 30_000);
});

describe('the listing page', () => {
  it('shows the photos as srcset variants, the distance, the owner\'s other listings and a contact step', async () => {
    const page = await newPage();
    await page.goto(`${site.base}/l/${photoListingId}?from=52.52,13.405`);
    await expect.poll(() => page.locator('#title').textContent()).toBe('Blue lamp');
    const img = page.locator('.photos img');
    // A 320 × 240 upload: the thumb is 256 wide, medium and large are the upload's size (listed once), at their real widths.
    expect(await img.getAttribute('srcset')).toMatch(/^\/images\/[0-9a-f-]+\/thumb 256w, \/images\/[0-9a-f-]+\/medium 320w$/);
    expect(await page.locator('.photos source[type="image/avif"]').getAttribute('srcset')).toMatch(/\/thumb\.avif 256w, .*\/medium\.avif 320w$/);
    await expect.poll(() => loadedSrc(img)).toMatch(/\/images\/[0-9a-f-]+\/medium(\.avif)?$/);
    expect(await page.locator('.distance').textContent()).toBe('50 m from where you searched');
    expect(await page.locator('.tags li').allTextContents()).toEqual(['lamp', 'light']);
    await expect.poll(() => page.locator('#others-list li').count()).toBe(6);
    // Signed out, the contact step is signing in, and back here after.
    await page.click('text=I\'m interested');
    await page.waitForURL(/\/signin\?next=/);
    expect(new URL(page.url()).searchParams.get('next')).toBe(`/l/${photoListingId}?from=52.52,13.405`);
    await page.context().close();
  }, 30_000);

  it('says so for an unknown listing', async () => {
    const page = await newPage();
    await page.goto(`${site.base}/l/0197b2c4-5f1d-7000-8000-000000000000`);
    await expect.poll(() => page.locator('#title').textContent()).toBe('No such listing');
    await page.context().close();
  });
});

describe('accounts and my listings', () => {
  let alice: Page;

  it('sign up, then post an offer with a photo (preview, progress): another person nearby finds it with its photo', async () => {
    alice = await newPage();
    await signUp(alice, `alice-${Date.now()}@example.org`);
    await alice.fill('#title', 'Cargo bike, red');
    await alice.fill('#description', 'Two seats for children.');
    await alice.fill('#tags', 'bike, cargo');
    await alice.fill('#place', '52.52, 13.405');
    await alice.selectOption('#radius', '5000');
    await alice.setInputFiles('#photos', { name: 'bike.png', mimeType: 'image/png', buffer: png(400, 300, [200, 30, 30]) });
    await expect.poll(() => alice.locator('#previews img').getAttribute('src')).toMatch(/^blob:/);
    expect(await alice.locator('#previews progress').count()).toBe(1);
    await alice.click('#save');
    await expect.poll(() => alice.locator('#mine > li > .title').allTextContents(), { timeout: 20_000 }).toContain('Cargo bike, red');
    expect(await alice.locator('#mine > li img').count()).toBe(1);

    const bob = await newPage();
    await bob.goto(`${site.base}/?lat=52.5201&lng=13.4051&r=1000&q=cargo`);
    await expect.poll(() => titles(bob)).toEqual(['Cargo bike, red']);
    await expect.poll(() => loadedSrc(bob.locator('#list li img'))).toMatch(/\/thumb(\.avif)?$/);
    await bob.click('#list li a');
    await expect.poll(() => bob.locator('#title').textContent()).toBe('Cargo bike, red');
    await expect.poll(() => loadedSrc(bob.locator('.photos img'))).toMatch(/\/images\/[0-9a-f-]+\/medium(\.avif)?$/);
    await bob.context().close();
  }, 90_000);

  it("pauses, resumes, edits and closes; a search shows its matches", async () => {
    await alice.check('input[name="kind"][value="search"]');
    await alice.fill('#title', 'lamp');
    await alice.fill('#place', '52.52, 13.405');
    await alice.click('#save');
    const search = alice.locator('#mine > li', { hasText: 'lamp' });
    await search.waitFor({ timeout: 20_000 });
    // The matcher finds the seeded blue lamp 50 m away.
    await expect.poll(async () => {
      await alice.reload();
      return alice.locator('#mine > li', { hasText: 'lamp' }).locator('.matches li').allTextContents();
    }, { timeout: 30_000, interval: 1000 }).toEqual(['Blue lamp · 50 m']);
    // A lamp posted while the page is open shows up there without a reload.
    await site.post('seller', { kind: 'offer', title: 'Desk lamp, green', tags: [], imageIds: [], location: { type: 'Point', coordinates: east(120) }, radiusM: 5000 });
    await expect.poll(() => search.locator('.matches li').allTextContents(), { timeout: 30_000, interval: 500 }).toContain('Desk lamp, green · 120 m');

    const bike = () => alice.locator('#mine > li', { hasText: 'Cargo bike' });
    await bike().getByRole('button', { name: /^Pause/ }).click();
    await expect.poll(() => bike().getAttribute('data-status')).toBe('paused');
    await bike().getByRole('button', { name: /^Resume/ }).click();
    await expect.poll(() => bike().getAttribute('data-status')).toBe('active');
    await bike().getByRole('button', { name: /^Edit/ }).click();
    expect(await alice.inputValue('#title')).toBe('Cargo bike, red');
    expect(await alice.locator('#previews img').count()).toBe(1);
    await alice.fill('#title', 'Cargo bike, red, with rain cover');
    await alice.click('#save');
    await expect.poll(() => alice.locator('#mine > li > .title').allTextContents()).toContain('Cargo bike, red, with rain cover');
    expect(await bike().locator('img').count()).toBe(1);
    await bike().getByRole('button', { name: /^Close/ }).click();
    await expect.poll(() => bike().getAttribute('data-status')).toBe('closed');
    expect(await bike().getByRole('button').count()).toBe(0);
  }, 90_000);
});

describe('the device\'s location', () => {
  it('"Use my location" searches where the browser is; a search that follows me moves with the device while My listings is open', async () => {
    const context = await browser.newContext({ viewport: DESKTOP, geolocation: { latitude: 52.52, longitude: 13.405 }, permissions: ['geolocation'] });
    const page = await newPage(context);
    await page.goto(`${site.base}/`);
    await page.click('#locate');
    await expect.poll(() => new URL(page.url()).searchParams.get('lat')).toBe('52.52000');
    await expect.poll(async () => (await titles(page))[0]).toBe('Blue lamp');

    await signUp(page, `gina-${Date.now()}@example.org`);
    await page.check('input[name="kind"][value="search"]');
    await page.fill('#title', 'Looking for a tandem');
    await page.click('#locate');
    await expect.poll(() => page.inputValue('#place')).toBe('52.52000, 13.40500');
    await page.check('#follow');
    await page.click('#save');
    await expect.poll(() => page.locator('#mine > li .meta').first().textContent(), { timeout: 20_000 }).toContain('follows me');

    const { userId } = await page.evaluate(async () => (await fetch('/account/me')).json()) as { userId: string };
    const where = async () => {
      const { items } = await (await fetch(`${site.base}/listings?ownerId=${encodeURIComponent(userId)}`)).json() as { items: { location: { coordinates: number[] } }[] };
      return items[0]!.location.coordinates;
    };
    expect(await where()).toEqual([13.405, 52.52]);
    await context.setGeolocation({ latitude: 52.53, longitude: 13.42 });
    await expect.poll(where, { timeout: 20_000 }).toEqual([13.42, 52.53]);
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/^Following you: 1 listing\(s\) moved to 52\.53000, 13\.42000\.$/);
    await context.close();
  }, 60_000);
});

describe('alerts and web push', () => {
  it('an alert is a search listing; push permission is asked only after the click; the service worker shows a push and links the listing', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await newPage(context);
    // Counts the permission requests (the init script runs through the DevTools protocol, not as an inline script).
    await context.addInitScript(() => {
      const counted = globalThis as unknown as { permissionAsked: number; Notification: { requestPermission(): Promise<string> } };
      counted.permissionAsked = 0;
      const ask = counted.Notification.requestPermission.bind(counted.Notification);
      counted.Notification.requestPermission = () => {
        counted.permissionAsked++;
        return ask();
      };
    });
    await signUp(page, `carol-${Date.now()}@example.org`);
    await context.grantPermissions(['notifications'], { origin: site.base });
    await page.goto(`${site.base}/?lat=52.52&lng=13.405&r=2000&q=piano`);
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/No offers/);
    expect(await page.evaluate(() => (globalThis as unknown as { permissionAsked: number }).permissionAsked)).toBe(0);

    await page.click('#alert');
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 20_000 }).toMatch(/^Alert saved for “piano”\. /);
    expect(await page.evaluate(() => (globalThis as unknown as { permissionAsked: number }).permissionAsked)).toBe(1);
    const me = await page.evaluate(async () => (await fetch('/account/me')).json()) as { userId: string };
    const mine = await (await fetch(`${site.base}/listings?ownerId=${encodeURIComponent(me.userId)}`)).json() as { items: Record<string, unknown>[] };
    expect(mine.items).toEqual([expect.objectContaining({ kind: 'search', title: 'piano', radiusM: 2000, location: { type: 'Point', coordinates: [13.405, 52.52] } })]);

    // The notifier's payload, delivered to the service worker by Chromium's DevTools protocol.
    const cdp = await context.newCDPSession(page);
    const registration = new Promise<string>((resolve) => cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const ours = registrations.find((r: { scopeURL: string; isDeleted: boolean }) => r.scopeURL === `${site.base}/` && !r.isDeleted);
      if (ours !== undefined) resolve(ours.registrationId);
    }));
    const workerEvents: unknown[] = [];
    cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => workerEvents.push(...versions));
    cdp.on('ServiceWorker.workerErrorReported', ({ errorMessage }) => workerEvents.push(errorMessage));
    await cdp.send('ServiceWorker.enable');
    const payload = { title: 'Offer nearby', body: 'An offer for “piano” is 300 m away', listingId: photoListingId, url: null, data: { listingId: photoListingId } };
    const registrationId = await registration;
    // Chromium's DevTools delivery answers before it delivers and drops a push it cannot deliver
    // without a word (in three CI runs of five, on a loaded machine): deliver again while nothing shows.
    // The notification's tag (the listing) makes a second one replace the first.
    let deliveries = 0;
    let nextDeliveryAt = 0;
    const shown = async () => {
      if (Date.now() >= nextDeliveryAt) {
        await cdp.send('ServiceWorker.deliverPushMessage', { origin: site.base, registrationId, data: JSON.stringify(payload) });
        deliveries++;
        nextDeliveryAt = Date.now() + 4_000;
      }
      return page.evaluate(async () => {
        const worker = await navigator.serviceWorker.ready;
        return (await worker.getNotifications()).map((n: { title: string; body: string; data: unknown }) => ({ title: n.title, body: n.body, data: n.data }));
      });
    };
    await expect.poll(shown, { timeout: 20_000 }).toEqual([{ title: 'Offer nearby', body: 'An offer for “piano” is 300 m away', data: { url: `${site.base}/l/${photoListingId}` } }]);
    if (deliveries > 1) console.warn(`the push was shown after ${deliveries} deliveries; the worker meanwhile: ${JSON.stringify(workerEvents)}`);
    await context.close();
  }, 60_000);
});

describe('bad input', () => {
  it('home: a place that is none, an alert without a query', async () => {
    const page = await newPage();
    await page.goto(`${site.base}/`);
    await page.fill('#place', 'Atlantis');
    await page.click('#search button[type="submit"]');
    await expect.poll(() => page.locator('#place-error').textContent()).toMatch(/^must be a city name/);
    expect(await page.getAttribute('#place', 'aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('place');
    await page.fill('#place', 'Berlin');
    await page.click('#alert');
    await expect.poll(() => page.locator('#q-error').textContent()).toBe('is required for an alert: type what you are looking for');
    expect(await page.locator('#place-error').textContent()).toBe('');
    await page.context().close();
  });

  it('sign up and sign in: the email, the password, wrong credentials (no word on whether the account exists)', async () => {
    const page = await newPage();
    await page.goto(`${site.base}/signup`);
    await page.fill('#email', 'not-an-email');
    await page.fill('#password', 'short');
    await page.click('#account-form button[type="submit"]');
    await expect.poll(() => page.locator('#email-error').textContent()).toBe('must be an email address');
    expect(await page.locator('#password-error').textContent()).toBe('must be at least 12 characters');
    await page.goto(`${site.base}/signin`);
    await page.fill('#email', 'nobody@example.org');
    await page.fill('#password', 'a wrong password');
    await page.click('#account-form button[type="submit"]');
    await expect.poll(() => page.locator('#password-error').textContent()).toBe('email or password is wrong');
    await page.context().close();
  });

  it('my listings: no title and no place, a description too long (storage says so), a file that is no image (the imageserver says so)', async () => {
    const page = await newPage();
    await signUp(page, `dave-${Date.now()}@example.org`);
    await page.click('#save');
    await expect.poll(() => page.locator('#title-error').textContent()).toBe('is required');
    expect(await page.locator('#place-error').textContent()).toBe('is required: type a place or use your location');

    await page.fill('#title', 'Old sofa');
    await page.fill('#place', 'Berlin');
    await page.fill('#description', 'x'.repeat(5001));
    await page.click('#save');
    await expect.poll(() => page.locator('#description-error').textContent()).toMatch(/5000/);
    expect(await page.getAttribute('#description', 'aria-invalid')).toBe('true');

    await page.fill('#description', 'Comfortable.');
    await page.setInputFiles('#photos', { name: 'sofa.png', mimeType: 'image/png', buffer: Buffer.from('this is not a picture') });
    await page.click('#save');
    await expect.poll(() => page.locator('#photos-error').textContent()).toMatch(/must be a JPEG, PNG, WebP or AVIF image/);
    expect(await page.locator('#mine > li .title').count()).toBe(0);
    await page.context().close();
  }, 60_000);
});

describe('keyboard only', () => {
  it('skip link, place, query, Enter; then Tab to the first result and Enter opens it', async () => {
    const page = await newPage();
    await page.goto(`${site.base}/`);
    const focused = () => page.evaluate(() => {
      const element = document.activeElement;
      return { id: element?.id ?? '', text: element?.textContent?.trim() ?? '', inList: element?.closest('#list') !== null };
    });
    await page.keyboard.press('Tab');
    expect((await focused()).text).toBe('Skip to content');
    const tabUntil = async (done: (f: Awaited<ReturnType<typeof focused>>) => boolean) => {
      for (let i = 0; i < 25; i++) {
        if (done(await focused())) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`never focused; last: ${JSON.stringify(await focused())}`);
    };
    await tabUntil((f) => f.id === 'place');
    await page.keyboard.type('Berlin');
    await tabUntil((f) => f.id === 'q');
    await page.keyboard.type('bike');
    await page.keyboard.press('Enter');
    await expect.poll(() => titles(page)).toEqual(offers.filter((o) => o.bike && o.distanceM <= 5000).map((o) => o.title));
    await tabUntil((f) => f.inList);
    expect((await focused()).text).toContain('Bike 0');
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/l/${offers[0]!.id}`));
    await expect.poll(() => page.locator('#title').textContent()).toBe('Bike 0');
    await page.context().close();
  }, 30_000);
});

describe('security headers and storage', () => {
  it('every page has a CSP without unsafe-inline scripts, and no inline script', async () => {
    for (const path of ['/', '/my', '/signin', '/signup', `/l/${photoListingId}`]) {
      const answer = await fetch(`${site.base}${path}`);
      expect(answer.status).toBe(200);
      const csp = answer.headers.get('content-security-policy')!;
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).not.toContain('unsafe-inline');
      expect(await answer.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it('a signed-in page keeps no token in localStorage or sessionStorage, and cannot read its session cookie (httpOnly, Secure, __Host-)', async () => {
    const page = await newPage();
    await signUp(page, `erin-${Date.now()}@example.org`);
    expect(await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }))).toEqual({ local: 0, session: 0 });
    expect(await page.evaluate(() => document.cookie)).not.toMatch(/session/);
    const session = (await page.context().cookies()).find((cookie) => /session/.test(cookie.name));
    expect(session).toMatchObject({ name: expect.stringMatching(/^__Host-/), httpOnly: true, secure: true, path: '/' });
    await page.context().close();
  });
});

describe('accessibility and screenshots', () => {
  for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    it(`axe finds no serious or critical violation on any page (${width}); screenshots in test-results/website/`, async () => {
      const context = await browser.newContext({ viewport });
      const page = await newPage(context);
      const check = async (name: string, url: string, ready: () => Promise<unknown>, screenshot: boolean) => {
        await page.goto(url);
        await ready();
        expect(await seriousViolations(page), `${name} (${width})`).toEqual([]);
        if (screenshot) await page.screenshot({ path: `${shots}/${name}-${width}.png`, fullPage: width === 'phone' });
      };
      await check('home', `${site.base}/?lat=52.52&lng=13.405&r=2000`, () => page.locator('#list li').first().waitFor(), true);
      await check('listing', `${site.base}/l/${photoListingId}?from=52.52,13.405`, () => page.locator('#others-list li').first().waitFor(), true);
      await check('signup', `${site.base}/signup`, () => page.locator('#email').waitFor(), false);
      await check('signin', `${site.base}/signin`, () => page.locator('#email').waitFor(), false);
      await signUp(page, `frank-${width}-${Date.now()}@example.org`);
      await page.fill('#title', 'Garden chairs, four');
      await page.fill('#place', 'Berlin');
      await page.setInputFiles('#photos', { name: 'chairs.png', mimeType: 'image/png', buffer: png(300, 300, [60, 160, 60]) });
      await page.click('#save');
      await page.locator('#mine > li img').waitFor({ timeout: 20_000 });
      await check('my-listings', `${site.base}/my`, () => page.locator('#mine > li img').waitFor(), true);
      await context.close();
    }, 90_000);
  }
});
