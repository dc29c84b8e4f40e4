/**
 * Home: listings near a place, as a list (nearest first) and as markers, kept in sync. The
 * address holds the state (`?lat&lng&r&q&kind`): a search is a shareable link, and the back
 * button goes to the previous search.
 */
import './styles.css';
import { nearby, pointOf, RequestError, write, type Kind, type NearbyItem, type NearbyQuery } from './lib/api.ts';
import { showAccount, signInUrl } from './lib/account-nav.ts';
import { byId, clearFieldErrors, h, setStatus, showFieldErrors } from './lib/dom.ts';
import { createdAt, formatAge, formatDistance, formatPoint, parsePlace, PLACE_RULE, type Point } from './lib/format.ts';
import { thumb } from './lib/images.ts';
import { createMap, L, listingMarker } from './lib/map.ts';
import { enablePush, PUSH_MESSAGES } from './lib/push.ts';

const MIN_RADIUS_M = 500;
const MAX_RADIUS_M = 25_000;

interface State {
  point: Point | undefined;
  radiusM: number;
  q: string;
  kind: Kind;
}

function readState(search: string): State {
  const params = new URLSearchParams(search);
  const lat = Number(params.get('lat'));
  const lng = Number(params.get('lng'));
  const hasPoint = params.has('lat') && params.has('lng') && Number.isFinite(lat) && Number.isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180;
  const radius = Number(params.get('r') ?? 5000);
  return {
    point: hasPoint ? { lat, lng } : undefined,
    radiusM: Number.isFinite(radius) ? Math.min(MAX_RADIUS_M, Math.max(MIN_RADIUS_M, radius)) : 5000,
    q: params.get('q') ?? '',
    kind: params.get('kind') === 'search' ? 'search' : 'offer',
  };
}

function stateUrl(state: State): string {
  const params = new URLSearchParams();
  if (state.point !== undefined) {
    params.set('lat', state.point.lat.toFixed(5));
    params.set('lng', state.point.lng.toFixed(5));
  }
  params.set('r', String(state.radiusM));
  if (state.q !== '') params.set('q', state.q);
  params.set('kind', state.kind);
  return `/?${params}`;
}

const form = byId<HTMLFormElement>('search');
const placeInput = byId<HTMLInputElement>('place');
const queryInput = byId<HTMLInputElement>('q');
const radiusSelect = byId<HTMLSelectElement>('radius');
const list = byId<HTMLOListElement>('list');
const more = byId<HTMLButtonElement>('more');

let state = readState(location.search);
const map = createMap(byId('map'), state.point);
const markers = L.layerGroup().addTo(map);
const area = L.layerGroup().addTo(map);
const markerOf = new Map<string, L.CircleMarker>();
let nextCursor: string | null = null;
let running: AbortController | undefined;

function fillForm(): void {
  placeInput.value = state.point === undefined ? placeInput.value : formatPoint(state.point);
  queryInput.value = state.q;
  if (![...radiusSelect.options].some((option) => Number(option.value) === state.radiusM)) {
    radiusSelect.add(new Option(formatDistance(state.radiusM), String(state.radiusM)));
  }
  radiusSelect.value = String(state.radiusM);
  for (const radio of form.querySelectorAll<HTMLInputElement>('input[name="kind"]')) radio.checked = radio.value === state.kind;
}

/** The form's values as a state; the place's error shown when it names no place. */
function formState(): State | undefined {
  clearFieldErrors(form);
  const typed = placeInput.value.trim();
  const point = typed === '' ? undefined : parsePlace(typed);
  if (point === undefined) {
    showFieldErrors(form, [{ field: 'place', rule: typed === '' ? 'is required: type a place, use your location or click the map' : PLACE_RULE }]);
    return undefined;
  }
  const kind = (form.querySelector<HTMLInputElement>('input[name="kind"]:checked')?.value ?? 'offer') as Kind;
  return { point, radiusM: Number(radiusSelect.value), q: queryInput.value.trim(), kind };
}

/** Goes to a new state: a new entry in the history, then the results. */
function go(next: State): void {
  state = next;
  const url = stateUrl(state);
  if (url !== location.pathname + location.search) history.pushState(null, '', url);
  fillForm();
  void search();
}

function select(id: string, from: 'list' | 'map'): void {
  for (const item of list.querySelectorAll('li.selected')) item.classList.remove('selected');
  for (const marker of markerOf.values()) marker.getElement()?.classList.remove('selected');
  const item = list.querySelector<HTMLLIElement>(`li[data-id="${CSS.escape(id)}"]`);
  const marker = markerOf.get(id);
  item?.classList.add('selected');
  marker?.getElement()?.classList.add('selected');
  marker?.bringToFront();
  if (from === 'map') {
    item?.scrollIntoView({ block: 'nearest' });
    item?.querySelector('a')?.focus({ preventScroll: true });
  } else {
    marker?.openTooltip();
  }
}

function listingLink(listing: NearbyItem): string {
  const from = state.point === undefined ? '' : `?from=${state.point.lat.toFixed(5)},${state.point.lng.toFixed(5)}`;
  return `/l/${encodeURIComponent(listing.id)}${from}`;
}

function show(items: NearbyItem[]): void {
  for (const listing of items) {
    const link = h('a', { href: listingLink(listing) },
      listing.imageIds[0] === undefined ? h('span', { class: 'no-photo', 'aria-hidden': 'true' }) : thumb(listing.imageIds[0]),
      h('span', { class: 'title' }, listing.title),
      h('span', { class: 'meta' }, `${formatDistance(listing.distanceM)} · ${formatAge(createdAt(listing.id))}`));
    const item = h('li', { 'data-id': listing.id }, link);
    item.addEventListener('mouseenter', () => select(listing.id, 'list'));
    link.addEventListener('focus', () => select(listing.id, 'list'));
    list.append(item);

    const marker = listingMarker(pointOf(listing), listing.title, listing.kind, `listing-marker m-${listing.id}`);
    marker.on('click', () => select(listing.id, 'map'));
    marker.addTo(markers);
    markerOf.set(listing.id, marker);
  }
}

async function search(): Promise<void> {
  running?.abort();
  list.replaceChildren();
  markers.clearLayers();
  markerOf.clear();
  area.clearLayers();
  more.hidden = true;
  if (state.point === undefined) {
    setStatus('Where are you? Type a place, use your location or click the map.');
    return;
  }
  const circle = L.circle(state.point, { radius: state.radiusM, color: '#1f6feb', weight: 1, fillOpacity: 0.05, interactive: false }).addTo(area);
  L.circleMarker(state.point, { radius: 4, color: '#111', weight: 2, fillOpacity: 1, interactive: false }).addTo(area);
  map.fitBounds(circle.getBounds());
  await load(null);
}

async function load(cursor: string | null): Promise<void> {
  const controller = new AbortController();
  running = controller;
  setStatus(cursor === null ? 'Searching…' : 'Loading more…');
  try {
    const query: NearbyQuery = { kind: state.kind, lat: state.point!.lat, lng: state.point!.lng, radiusM: state.radiusM, q: state.q };
    const page = await nearby(query, cursor, controller.signal);
    show(page.items);
    nextCursor = page.nextCursor;
    more.hidden = nextCursor === null;
    const shown = list.children.length;
    const what = state.kind === 'offer' ? 'offer' : 'search';
    setStatus(shown === 0 ? `No ${what}s within ${formatDistance(state.radiusM)}${state.q === '' ? '' : ` for “${state.q}”`}.`
      : `${shown} ${what}${shown === 1 ? '' : 's'} within ${formatDistance(state.radiusM)}${nextCursor === null ? '' : ', more available'}.`);
  } catch (error) {
    if (controller.signal.aborted) return;
    if (error instanceof RequestError && error.errors.length > 0) showFieldErrors(form, error.errors, { lat: 'place', lng: 'place', radiusM: 'place' });
    setStatus(`The search failed: ${(error as Error).message}`);
  }
}

async function createAlert(): Promise<void> {
  const next = formState();
  if (next === undefined) return;
  if (next.q === '') {
    showFieldErrors(form, [{ field: 'q', rule: 'is required for an alert: type what you are looking for' }]);
    return;
  }
  go(next);
  try {
    await write('POST', '/listings', {
      kind: 'search', title: next.q, tags: [],
      location: { type: 'Point', coordinates: [next.point!.lng, next.point!.lat] }, radiusM: next.radiusM,
    });
  } catch (error) {
    if (error instanceof RequestError && error.status === 401) {
      location.assign(signInUrl());
      return;
    }
    if (error instanceof RequestError && error.errors.length > 0) showFieldErrors(form, error.errors, { title: 'q', location: 'place', radiusM: 'place' });
    setStatus(`The alert could not be saved: ${(error as Error).message}`);
    return;
  }
  setStatus(`Alert saved for “${next.q}”. ${PUSH_MESSAGES[await enablePush().catch(() => 'unsupported' as const)]}`);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const next = formState();
  if (next !== undefined) go(next);
});
for (const control of [radiusSelect, ...form.querySelectorAll<HTMLInputElement>('input[name="kind"]')]) {
  control.addEventListener('change', () => {
    const kind = (form.querySelector<HTMLInputElement>('input[name="kind"]:checked')?.value ?? 'offer') as Kind;
    if (state.point !== undefined) go({ ...state, radiusM: Number(radiusSelect.value), kind });
  });
}
byId('locate').addEventListener('click', () => {
  clearFieldErrors(form);
  setStatus('Finding your location…');
  navigator.geolocation.getCurrentPosition(
    (position) => go({ ...state, point: { lat: position.coords.latitude, lng: position.coords.longitude } }),
    (error) => {
      setStatus('');
      showFieldErrors(form, [{ field: 'place', rule: `your location is not available (${error.message}): type a place or click the map` }]);
    },
    { enableHighAccuracy: false, timeout: 10_000, maximumAge: 60_000 });
});
byId('alert').addEventListener('click', () => void createAlert());
map.on('click', (event: L.LeafletMouseEvent) => go({ ...state, point: { lat: event.latlng.lat, lng: event.latlng.lng } }));
more.addEventListener('click', () => {
  if (nextCursor !== null) void load(nextCursor);
});
window.addEventListener('popstate', () => {
  state = readState(location.search);
  fillForm();
  void search();
});

fillForm();
void search();
void showAccount();
