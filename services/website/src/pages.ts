/**
 * The pages' HTML: static shells (forms, headings, landmarks) that the page's module fills from
 * the public API. Nothing a user wrote is ever put in this HTML: it is rendered in the browser
 * with textContent only.
 */
import type { PageBundle, PageName } from './assets.ts';
import { tilesOrigin, type WebsiteConfig } from './config.ts';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** No inline script or style may run; images from the site, its uploads (blob: previews) and the tile server. */
export function contentSecurityPolicy(config: WebsiteConfig): string {
  const tiles = tilesOrigin(config);
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob:${tiles === '' ? '' : ` ${tiles}`}`,
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const RADII = [500, 1000, 2000, 5000, 10_000, 25_000];
const radiusOptions = (selected: number) => RADII.map((m) =>
  `<option value="${m}"${m === selected ? ' selected' : ''}>${m < 1000 ? `${m} m` : `${m / 1000} km`}</option>`).join('');

const BODIES: Record<PageName, (path: string) => { title: string; main: string }> = {
  home: () => ({
    title: 'Nearby',
    main: `
<h1>What's near you</h1>
<form id="search" class="search" novalidate role="search" aria-label="Nearby listings">
  <div class="field place">
    <label for="place">Where</label>
    <div class="row"><input id="place" name="place" placeholder="A city, or “52.52, 13.40”" autocomplete="off" aria-describedby="place-error place-hint">
    <button type="button" id="locate">Use my location</button></div>
    <p class="hint" id="place-hint">Or click the map.</p>
    <p class="error" id="place-error"></p>
  </div>
  <div class="field"><label for="q">What</label><input id="q" name="q" type="search" maxlength="200" aria-describedby="q-error"><p class="error" id="q-error"></p></div>
  <div class="field"><label for="radius">Within</label><select id="radius" name="radius">${radiusOptions(5000)}</select></div>
  <fieldset class="field kind"><legend>Show</legend>
    <label><input type="radio" name="kind" value="offer" checked> Offers</label>
    <label><input type="radio" name="kind" value="search"> What people look for</label>
  </fieldset>
  <div class="actions"><button type="submit" class="primary">Search</button><button type="button" id="alert">Alert me about new ones</button></div>
</form>
<p id="status" class="status" role="status" aria-live="polite"></p>
<div class="results">
  <section class="list" aria-labelledby="list-heading"><h2 id="list-heading">Results</h2><ol id="list"></ol><button type="button" id="more" hidden>More results</button></section>
  <div id="map" class="map" role="region" aria-label="Map of the results"></div>
</div>`,
  }),
  listing: () => ({
    title: 'Listing',
    main: `
<article id="listing" aria-busy="true"><h1 id="title">Loading…</h1></article>
<p id="status" class="status" role="status" aria-live="polite"></p>
<section id="others" class="others" aria-labelledby="others-heading" hidden><h2 id="others-heading">More from this person</h2><ul id="others-list" class="cards"></ul></section>`,
  }),
  my: () => ({
    title: 'My listings',
    main: `
<h1>My listings</h1>
<p id="status" class="status" role="status" aria-live="polite"></p>
<section aria-labelledby="mine-heading"><h2 id="mine-heading">Yours</h2><ul id="mine" class="mine"></ul></section>
<section aria-labelledby="edit-heading" class="editor">
  <h2 id="edit-heading">New listing</h2>
  <form id="listing-form" novalidate>
    <fieldset class="field kind"><legend>Kind</legend>
      <label><input type="radio" name="kind" value="offer" checked> I offer something</label>
      <label><input type="radio" name="kind" value="search"> I look for something</label>
    </fieldset>
    <div class="field"><label for="title">Title</label><input id="title" name="title" maxlength="200" aria-describedby="title-error"><p class="error" id="title-error"></p></div>
    <div class="field"><label for="description">Description</label><textarea id="description" name="description" rows="4" aria-describedby="description-error"></textarea><p class="error" id="description-error"></p></div>
    <div class="field"><label for="tags">Tags</label><input id="tags" name="tags" aria-describedby="tags-hint tags-error"><p class="hint" id="tags-hint">Separated by commas.</p><p class="error" id="tags-error"></p></div>
    <div class="field place">
      <label for="place">Where</label>
      <div class="row"><input id="place" name="place" placeholder="A city, or “52.52, 13.40”" autocomplete="off" aria-describedby="place-error"><button type="button" id="locate">Use my location</button></div>
      <p class="error" id="place-error"></p>
    </div>
    <div class="field"><label for="radius">Reach</label><select id="radius" name="radius">${radiusOptions(2000)}</select><p class="error" id="radiusM-error"></p></div>
    <div class="field check"><label><input type="checkbox" id="follow" name="follow"> Follow me: the listing moves with this device while this page is open</label></div>
    <div class="field"><label for="photos">Photos</label><input id="photos" name="photos" type="file" accept="image/jpeg,image/png,image/webp,image/avif" multiple aria-describedby="photos-error"><p class="error" id="photos-error"></p>
      <ul id="previews" class="previews"></ul></div>
    <p class="error" id="form-error"></p>
    <div class="actions"><button type="submit" class="primary" id="save">Publish</button><button type="button" id="cancel-edit" hidden>Cancel editing</button></div>
  </form>
</section>`,
  }),
  account: (path) => {
    const signUp = path === '/signup';
    return {
      title: signUp ? 'Sign up' : 'Sign in',
      main: `
<h1>${signUp ? 'Create your account' : 'Sign in'}</h1>
<form id="account-form" class="account" novalidate data-mode="${signUp ? 'signup' : 'signin'}">
  <div class="field"><label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" aria-describedby="email-error"><p class="error" id="email-error"></p></div>
  <div class="field"><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="${signUp ? 'new-password' : 'current-password'}" aria-describedby="password-error"><p class="error" id="password-error"></p></div>
  <p class="error" id="form-error"></p>
  <div class="actions"><button type="submit" class="primary">${signUp ? 'Sign up' : 'Sign in'}</button></div>
  <p>${signUp ? 'Have an account? <a href="/signin">Sign in</a>' : 'New here? <a href="/signup">Create an account</a>'}</p>
</form>
<p id="status" class="status" role="status" aria-live="polite"></p>`,
    };
  },
};

/** Settings the page's modules read: in meta tags (no inline script). */
function settings(config: WebsiteConfig): string {
  return [['tiles', config.MAP_TILES_URL], ['attribution', config.MAP_ATTRIBUTION], ['vapid', config.VAPID_PUBLIC_KEY]]
    .map(([name, value]) => `<meta name="pushtech:${name}" content="${escapeHtml(value!)}">`).join('\n');
}

export function renderPage(name: PageName, path: string, bundle: PageBundle, config: WebsiteConfig): string {
  const { title, main } = BODIES[name](path);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Pushtech</title>
<meta name="description" content="Offers and searches near you, on a map.">
<link rel="icon" href="data:,">
${settings(config)}
${bundle.styles.map((href) => `<link rel="stylesheet" href="${href}">`).join('\n')}
<script type="module" src="${bundle.script}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">Pushtech</a>
  <nav aria-label="Main"><ul>
    <li><a href="/">Nearby</a></li>
    <li><a href="/my">My listings</a></li>
    <li id="account-nav"><a href="/signin">Sign in</a></li>
  </ul></nav>
</header>
<main id="main" tabindex="-1">${main}
</main>
</body>
</html>
`;
}
