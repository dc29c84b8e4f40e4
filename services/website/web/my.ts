/**
 * My listings (`/my`): the signed-in user's offers and searches with pause / resume / edit /
 * close, each search's current matches (asked for again every few seconds), a form to post a
 * new one (photos uploaded to the imageserver first, with previews and progress), and "follow
 * me": while this page is open, listings marked to follow are moved to this device's location.
 */
import './styles.css';
import { listingsOf, matchesOf, pointOf, RequestError, uploadImage, write, type Kind, type Listing } from './lib/api.ts';
import { showAccount, signInUrl } from './lib/account-nav.ts';
import { byId, clearFieldErrors, h, setStatus, showFieldErrors, type FieldError } from './lib/dom.ts';
import { formatDistance, formatPoint, haversineM, parsePlace, PLACE_RULE, type Point } from './lib/format.ts';
import { thumb } from './lib/images.ts';

const form = byId<HTMLFormElement>('listing-form');
const mine = byId<HTMLUListElement>('mine');
const photosInput = byId<HTMLInputElement>('photos');
const previews = byId<HTMLUListElement>('previews');
const saveButton = byId<HTMLButtonElement>('save');
const cancelEdit = byId<HTMLButtonElement>('cancel-edit');
/** Storage's fields, as this form names them. */
const FIELD_ALIASES = { location: 'place', imageIds: 'photos', radiusM: 'radiusM', kind: 'form' };
/** A following listing is moved once the device is this far from where it was last put. */
const FOLLOW_STEP_M = 25;
/** How often a search's matches are asked for again while this page is in view. */
const MATCHES_REFRESH_MS = 10_000;

let userId = '';
let listings: Listing[] = [];
let editing: Listing | undefined;
let keptImageIds: string[] = [];
let following: number | undefined;

function statusActions(listing: Listing): HTMLElement[] {
  if (listing.status === 'closed') return [];
  const button = (label: string, action: () => Promise<unknown>) => {
    const element = h('button', { type: 'button', 'aria-label': `${label}: ${listing.title}` }, label);
    element.addEventListener('click', () => void run(`${label} “${listing.title}”`, action));
    return element;
  };
  return [
    listing.status === 'active'
      ? button('Pause', () => write('PATCH', `/listings/${listing.id}`, { status: 'paused' }))
      : button('Resume', () => write('PATCH', `/listings/${listing.id}`, { status: 'active' })),
    button('Edit', async () => startEditing(listing)),
    button('Close', () => write('DELETE', `/listings/${listing.id}`)),
  ];
}

async function run(what: string, action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
    setStatus(`${what}: done.`);
    await load();
  } catch (error) {
    setStatus(`${what} failed: ${(error as Error).message}`);
  }
}

async function matchesList(listing: Listing): Promise<HTMLElement> {
  const { items } = await matchesOf(listing.id).catch(() => ({ items: [] }));
  if (items.length === 0) return h('p', { class: 'meta no-matches' }, 'No matches yet.');
  return h('ul', { class: 'matches', 'aria-label': `Matches of ${listing.title}` }, ...items.map((match) =>
    h('li', {}, h('a', { href: `/l/${encodeURIComponent(match.listingId)}` }, match.title), ` · ${formatDistance(match.distanceM)}`)));
}

/** Shows each open search's matches as they are now (matches come and go as listings move). */
async function refreshMatches(): Promise<void> {
  if (document.visibilityState !== 'visible') return;
  for (const listing of listings) {
    if (listing.kind !== 'search' || listing.status === 'closed') continue;
    const shown = mine.querySelector(`li[data-id="${CSS.escape(listing.id)}"]`)?.querySelector(':scope > .matches, :scope > .no-matches');
    shown?.replaceWith(await matchesList(listing));
  }
}

async function render(): Promise<void> {
  if (listings.length === 0) {
    mine.replaceChildren(h('li', {}, 'Nothing yet: post your first offer or search below.'));
    return;
  }
  mine.replaceChildren(...await Promise.all(listings.map(async (listing) => h('li', { 'data-id': listing.id, 'data-status': listing.status },
    h('p', { class: `badge ${listing.kind}` }, listing.kind === 'offer' ? 'Offer' : 'Looking for'),
    ' ',
    h('a', { href: `/l/${encodeURIComponent(listing.id)}`, class: 'title' }, listing.title),
    h('p', { class: 'meta' }, `${listing.status} · reach ${formatDistance(listing.radiusM)}${listing.follow ? ' · follows me' : ''}`),
    listing.imageIds[0] === undefined ? '' : thumb(listing.imageIds[0], ''),
    h('div', { class: 'actions' }, ...statusActions(listing)),
    listing.kind === 'search' && listing.status !== 'closed' ? await matchesList(listing) : ''))));
}

async function load(): Promise<void> {
  listings = (await listingsOf(userId, { limit: 100 })).items;
  await render();
  followMe();
}

/** Moves the active listings that follow their owner to this device's location, while the page is open. */
function followMe(): void {
  const followers = () => listings.filter((listing) => listing.follow && listing.status === 'active');
  if (followers().length === 0 || !('geolocation' in navigator)) {
    if (following !== undefined) navigator.geolocation.clearWatch(following);
    following = undefined;
    return;
  }
  if (following !== undefined) return;
  following = navigator.geolocation.watchPosition(async (position) => {
    const here: Point = { lat: position.coords.latitude, lng: position.coords.longitude };
    for (const listing of followers()) {
      if (haversineM(here, pointOf(listing)) < FOLLOW_STEP_M) continue;
      const moved = await write<Listing>('PATCH', `/listings/${listing.id}`, { location: { type: 'Point', coordinates: [here.lng, here.lat] } }).catch(() => undefined);
      if (moved?.location !== undefined) listing.location = moved.location;
    }
    setStatus(`Following you: ${followers().length} listing(s) moved to ${formatPoint(here)}.`);
  }, () => setStatus('Follow me is on, but this device does not share its location.'), { enableHighAccuracy: true, maximumAge: 30_000 });
}

function startEditing(listing: Listing): void {
  editing = listing;
  keptImageIds = [...listing.imageIds];
  clearFieldErrors(form);
  byId('edit-heading').textContent = `Edit “${listing.title}”`;
  for (const radio of form.querySelectorAll<HTMLInputElement>('input[name="kind"]')) {
    radio.checked = radio.value === listing.kind;
    radio.disabled = true;
  }
  byId<HTMLInputElement>('title').value = listing.title;
  byId<HTMLTextAreaElement>('description').value = listing.description ?? '';
  byId<HTMLInputElement>('tags').value = listing.tags.join(', ');
  byId<HTMLInputElement>('place').value = formatPoint(pointOf(listing));
  const radius = byId<HTMLSelectElement>('radius');
  if (![...radius.options].some((option) => Number(option.value) === listing.radiusM)) radius.add(new Option(formatDistance(listing.radiusM), String(listing.radiusM)));
  radius.value = String(listing.radiusM);
  byId<HTMLInputElement>('follow').checked = listing.follow;
  photosInput.value = '';
  previews.replaceChildren(...keptImageIds.map((id) => h('li', {}, thumb(id, 'A photo already on the listing'))));
  saveButton.textContent = 'Save changes';
  cancelEdit.hidden = false;
  byId('title').focus();
}

function stopEditing(): void {
  editing = undefined;
  keptImageIds = [];
  form.reset();
  for (const radio of form.querySelectorAll<HTMLInputElement>('input[name="kind"]')) radio.disabled = false;
  previews.replaceChildren();
  byId('edit-heading').textContent = 'New listing';
  saveButton.textContent = 'Publish';
  cancelEdit.hidden = true;
}

/** A preview of each chosen photo (a blob: URL, never uploaded until the form is sent) with its progress bar. */
function showPreviews(): void {
  const kept = keptImageIds.map((id) => h('li', {}, thumb(id, 'A photo already on the listing')));
  const chosen = [...photosInput.files ?? []].map((file) => {
    const image = h('img', { src: URL.createObjectURL(file), alt: `Preview of ${file.name}`, width: 96, height: 96 });
    image.addEventListener('load', () => URL.revokeObjectURL(image.src), { once: true });
    return h('li', {}, image, h('progress', { max: 1, value: 0, 'aria-label': `Upload of ${file.name}` }));
  });
  previews.replaceChildren(...kept, ...chosen);
}

/** The form's values; the fields' errors the browser can tell without asking storage. */
function readForm(): { body: Record<string, unknown>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const title = byId<HTMLInputElement>('title').value.trim();
  if (title === '') errors.push({ field: 'title', rule: 'is required' });
  const placeText = byId<HTMLInputElement>('place').value;
  const point = parsePlace(placeText);
  if (point === undefined) errors.push({ field: 'place', rule: placeText.trim() === '' ? 'is required: type a place or use your location' : PLACE_RULE });
  const files = [...photosInput.files ?? []];
  if (keptImageIds.length + files.length > 10) errors.push({ field: 'photos', rule: 'must be at most 10 photos' });
  const description = byId<HTMLTextAreaElement>('description').value.trim();
  const body: Record<string, unknown> = {
    title,
    tags: byId<HTMLInputElement>('tags').value.split(',').map((tag) => tag.trim()).filter((tag) => tag !== ''),
    radiusM: Number(byId<HTMLSelectElement>('radius').value),
    follow: byId<HTMLInputElement>('follow').checked,
  };
  if (point !== undefined) body.location = { type: 'Point', coordinates: [point.lng, point.lat] };
  if (editing === undefined) {
    body.kind = (form.querySelector<HTMLInputElement>('input[name="kind"]:checked')?.value ?? 'offer') as Kind;
    if (description !== '') body.description = description;
  } else {
    body.description = description === '' ? null : description;
  }
  return { body, errors };
}

async function uploadPhotos(): Promise<string[]> {
  const files = [...photosInput.files ?? []];
  const bars = [...previews.querySelectorAll('progress')];
  const ids: string[] = [];
  for (const [index, file] of files.entries()) {
    setStatus(`Uploading photo ${index + 1} of ${files.length}…`);
    const image = await uploadImage(file, (fraction) => { if (bars[index] !== undefined) bars[index].value = fraction; });
    ids.push(image.id);
  }
  return ids;
}

async function save(): Promise<void> {
  clearFieldErrors(form);
  const { body, errors } = readForm();
  if (errors.length > 0) {
    showFieldErrors(form, errors, FIELD_ALIASES);
    return;
  }
  saveButton.disabled = true;
  try {
    body.imageIds = [...keptImageIds, ...await uploadPhotos().catch((error: unknown) => {
      if (error instanceof RequestError) throw new RequestError(error.status, error.message, error.errors.map((e) => ({ field: 'photos', rule: e.rule })));
      throw error;
    })];
    setStatus('Saving…');
    const saved = editing === undefined
      ? await write<Listing>('POST', '/listings', body)
      : await write<Listing>('PATCH', `/listings/${editing.id}`, body);
    setStatus(`Saved “${saved.title ?? body.title}”.`);
    stopEditing();
    await load();
  } catch (error) {
    setStatus('');
    if (error instanceof RequestError && error.status === 401) location.assign(signInUrl());
    else if (error instanceof RequestError && error.errors.length > 0) showFieldErrors(form, error.errors, FIELD_ALIASES);
    else showFieldErrors(form, [{ field: 'form', rule: (error as Error).message }]);
  } finally {
    saveButton.disabled = false;
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void save();
});
photosInput.addEventListener('change', showPreviews);
cancelEdit.addEventListener('click', stopEditing);
byId('locate').addEventListener('click', () => navigator.geolocation.getCurrentPosition(
  (position) => { byId<HTMLInputElement>('place').value = formatPoint({ lat: position.coords.latitude, lng: position.coords.longitude }); },
  (error) => showFieldErrors(form, [{ field: 'place', rule: `your location is not available (${error.message}): type a place` }])));

async function main(): Promise<void> {
  const user = await showAccount();
  if (user === undefined) {
    location.assign(signInUrl());
    return;
  }
  userId = user.userId;
  await load();
  setInterval(() => void refreshMatches(), MATCHES_REFRESH_MS);
}

void main();
