/**
 * A listing's page (`/l/:id`): what it is, its photos, how far it is from the place the visitor
 * searched from (`?from=lat,lng`, or their location if they share it), the owner's other
 * listings, and the next step to take contact.
 */
import './styles.css';
import { listing as fetchListing, listingsOf, me, pointOf, RequestError, type Listing } from './lib/api.ts';
import { showAccount, signInUrl } from './lib/account-nav.ts';
import { byId, h, setStatus } from './lib/dom.ts';
import { createdAt, formatAge, formatDistance, haversineM, parsePlace } from './lib/format.ts';
import { describeImage, sizedPicture, thumb } from './lib/images.ts';
import { createMap, listingMarker } from './lib/map.ts';

const id = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const article = byId('listing');

function distanceLine(listing: Listing): HTMLElement {
  const line = h('p', { class: 'distance' });
  const from = parsePlace(new URLSearchParams(location.search).get('from') ?? '');
  if (from !== undefined) {
    line.textContent = `${formatDistance(haversineM(from, pointOf(listing)))} from where you searched`;
    return line;
  }
  const ask = h('button', { type: 'button', class: 'link' }, 'How far is it from me?');
  ask.addEventListener('click', () => navigator.geolocation.getCurrentPosition(
    (position) => { line.textContent = `${formatDistance(haversineM({ lat: position.coords.latitude, lng: position.coords.longitude }, pointOf(listing)))} from you`; },
    (error) => { line.textContent = `Your location is not available: ${error.message}`; }));
  line.append(ask);
  return line;
}

function contact(listing: Listing): HTMLElement {
  const panel = h('div', { class: 'contact', id: 'contact-panel', hidden: true });
  const button = h('button', { type: 'button', class: 'primary', 'aria-expanded': 'false', 'aria-controls': 'contact-panel' },
    listing.kind === 'offer' ? "I'm interested" : 'I have this');
  button.addEventListener('click', async () => {
    const user = await me();
    if (user === undefined) {
      location.assign(signInUrl());
      return;
    }
    panel.replaceChildren(
      h('p', {}, `Tell ${listing.ownerId} you are interested: share this page's address with them, or post a `,
        h('a', { href: '/my' }, listing.kind === 'offer' ? 'search' : 'offer'),
        ' for the same thing: when they match, both of you are notified.'));
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
  });
  return h('div', {}, button, panel);
}

async function photosOf(listing: Listing): Promise<HTMLElement | ''> {
  if (listing.imageIds.length === 0) return '';
  const images = await Promise.all(listing.imageIds.map((imageId) => describeImage(imageId).catch(() => undefined)));
  return h('div', { class: 'photos' }, ...listing.imageIds.flatMap((imageId, index) => {
    const image = images[index];
    return image === undefined ? [] : [sizedPicture(imageId, image, `Photo ${index + 1} of ${listing.title}`, '(max-width: 700px) 100vw, 640px', index > 0)];
  }));
}

async function render(listing: Listing): Promise<void> {
  document.title = `${listing.title} · Pushtech`;
  const photos = await photosOf(listing);
  const mapBox = h('div', { class: 'map small', role: 'region', 'aria-label': 'Where it is' });
  article.replaceChildren(
    h('p', { class: `badge ${listing.kind}` }, listing.kind === 'offer' ? 'Offer' : 'Looking for'),
    h('h1', { id: 'title' }, listing.title),
    h('p', { class: 'meta' }, `Posted ${formatAge(createdAt(listing.id))} by ${listing.ownerId}`,
      listing.status === 'active' ? '' : ` · ${listing.status}`),
    distanceLine(listing),
    photos,
    listing.description === undefined ? '' : h('p', { class: 'description' }, listing.description),
    listing.tags.length === 0 ? '' : h('ul', { class: 'tags', 'aria-label': 'Tags' }, ...listing.tags.map((tag) => h('li', {}, tag))),
    contact(listing),
    mapBox);
  article.removeAttribute('aria-busy');
  const map = createMap(mapBox, pointOf(listing), 14);
  listingMarker(pointOf(listing), listing.title, listing.kind).addTo(map);
}

async function others(listing: Listing): Promise<void> {
  const page = await listingsOf(listing.ownerId, { status: 'active', limit: 7 });
  const items = page.items.filter((other) => other.id !== listing.id).slice(0, 6);
  if (items.length === 0) return;
  byId('others-list').replaceChildren(...items.map((other) => h('li', {},
    h('a', { href: `/l/${encodeURIComponent(other.id)}${location.search}` },
      other.imageIds[0] === undefined ? h('span', { class: 'no-photo', 'aria-hidden': 'true' }) : thumb(other.imageIds[0]),
      h('span', { class: 'title' }, other.title)))));
  byId('others').hidden = false;
}

async function main(): Promise<void> {
  try {
    const listing = await fetchListing(id);
    await render(listing);
    await others(listing);
  } catch (error) {
    article.removeAttribute('aria-busy');
    byId('title').textContent = error instanceof RequestError && error.status === 404 ? 'No such listing' : 'This listing could not be loaded';
    setStatus((error as Error).message);
  }
}

void main();
void showAccount();
