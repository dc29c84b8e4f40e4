// kafidx page: plain DOM, no build step. Message data only ever goes into textContent.
const MAX_ROWS = 500;
const STATS_WINDOW_MIN = 60;
const STATS_REFRESH_MS = 15_000;
const SPARK_POINTS = 60;
const PALETTE = ['#58a6ff', '#3fb950', '#d29922', '#f778ba', '#a371f7', '#39c5cf', '#8b949e'];

const $ = (id) => document.getElementById(id);
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};
const svgEl = (tag, attrs = {}) => {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};
const fmt = new Intl.NumberFormat('en');
const hue = (name) => {
  let h = 0;
  for (const c of name) h = (h * 31 + c.codePointAt(0)) % 360;
  return h;
};

const state = {
  ws: undefined,
  retryMs: 500,
  topics: [],          // from /api/topics
  selected: new Set(), // checked in the list
  watching: [],        // what the server confirmed
  paused: false,
  received: 0,
  dropped: 0,
  pending: [],         // messages waiting for the next frame
  frame: 0,
  rateHistory: new Map(),
  unauthorized: false,
};

$('max-rows').textContent = `${MAX_ROWS} rows`;

// ---------- status ----------
function setStatus(kind, text) {
  $('status').className = `status ${kind}`;
  $('status-text').textContent = text;
}
function showLiveStatus() {
  if (state.watching.length === 0) setStatus('connecting', 'connected · not watching');
  else if (state.paused) setStatus('paused', 'paused');
  else setStatus('live', `live · ${state.watching.length} topic${state.watching.length === 1 ? '' : 's'}`);
}

// ---------- hash: #topics=a,b&last=50 opens straight onto those topics ----------
function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const topics = (params.get('topics') ?? '').split(',').filter(Boolean);
  const last = params.get('last');
  return { topics, last: last === null ? undefined : last };
}
function writeHash(topics, last) {
  history.replaceState(null, '', `#topics=${topics.map(encodeURIComponent).join(',')}&last=${last}`);
}

// ---------- topics ----------
async function loadTopics() {
  const list = $('topics');
  try {
    const answer = await fetch('/api/topics', { credentials: 'same-origin' });
    if (answer.status === 401) return unauthorized();
    const body = await answer.json();
    if (!answer.ok) throw new Error(body.message ?? `HTTP ${answer.status}`);
    state.topics = body.topics;
  } catch (err) {
    list.replaceChildren(el('li', 'empty', `topics could not be loaded: ${err.message}`));
    return;
  }
  renderTopics();
}
function renderTopics() {
  const list = $('topics');
  const q = $('topic-search').value.trim().toLowerCase();
  const shown = state.topics.filter((t) => t.name.toLowerCase().includes(q) || state.selected.has(t.name));
  // Selected topics first, then by name.
  shown.sort((a, b) => Number(state.selected.has(b.name)) - Number(state.selected.has(a.name)) || a.name.localeCompare(b.name));
  if (shown.length === 0) {
    list.replaceChildren(el('li', 'empty', state.topics.length === 0 ? 'no topics' : 'no topic matches'));
    return;
  }
  list.replaceChildren(...shown.map((t) => {
    const li = el('li');
    const label = el('label');
    const box = el('input');
    box.type = 'checkbox';
    box.value = t.name;
    box.checked = state.selected.has(t.name);
    box.addEventListener('change', () => {
      if (box.checked) state.selected.add(t.name); else state.selected.delete(t.name);
    });
    label.append(box, el('span', 'name', t.name), el('span', 'parts', `${t.partitions}p`));
    label.title = t.name;
    li.append(label);
    return li;
  }));
}
$('topic-search').addEventListener('input', renderTopics);
$('refresh-topics').addEventListener('click', loadTopics);

// ---------- WebSocket ----------
function send(command) {
  if (state.ws?.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(command));
}
function currentFilter() {
  return { type: $('f-type').value.trim(), userId: $('f-user').value.trim(), text: $('f-text').value };
}
function watch(topics, last) {
  if (topics.length === 0) return;
  writeHash(topics, last);
  setStatus('connecting', 'subscribing…');
  send({ op: 'subscribe', topics, last, filter: currentFilter() });
  if (state.paused) send({ op: 'pause' });
}
$('watch').addEventListener('click', () => {
  const topics = [...state.selected];
  if (topics.length === 0) {
    setStatus('connecting', 'pick a topic first');
    return;
  }
  clearRows();
  watch(topics, Number($('start').value));
});

function connect() {
  if (state.unauthorized) return;
  setStatus(state.ws ? 'reconnecting' : 'connecting', 'connecting…');
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  state.ws = ws;
  ws.addEventListener('open', () => {
    state.retryMs = 500;
    $('pause').disabled = false;
    // After a reconnect, carry on from now: the rows already shown stay.
    if (state.watching.length > 0) watch(state.watching, 0);
    else {
      const initial = readHash();
      if (initial.topics.length > 0) {
        for (const t of initial.topics) state.selected.add(t);
        if (initial.last !== undefined) $('start').value = initial.last;
        renderTopics();
        watch(initial.topics, Number(initial.last ?? $('start').value));
      } else showLiveStatus();
    }
  });
  ws.addEventListener('message', (event) => handle(JSON.parse(event.data)));
  ws.addEventListener('close', async () => {
    $('pause').disabled = true;
    if (state.ws !== ws) return;
    const probe = await fetch('/api/topics', { method: 'GET' }).catch(() => undefined);
    if (probe?.status === 401) return unauthorized();
    const wait = state.retryMs;
    state.retryMs = Math.min(state.retryMs * 2, 10_000);
    setStatus('reconnecting', `disconnected · retrying in ${Math.round(wait / 1000) || 1} s`);
    setTimeout(connect, wait);
  });
}

function unauthorized() {
  state.unauthorized = true;
  setStatus('unauthorized', 'no access: open this page with ?token=…');
  $('messages').replaceChildren(el('li', 'placeholder', 'kafidx needs its token: open /?token=<KAFIDX_TOKEN> (the page keeps it in a cookie).'));
}

function handle(frame) {
  switch (frame.kind) {
    case 'message':
      state.received++;
      state.pending.push(frame);
      if (state.pending.length > MAX_ROWS) state.pending.splice(0, state.pending.length - MAX_ROWS);
      scheduleRender();
      break;
    case 'stats':
      state.dropped = frame.dropped;
      renderRates(frame.rates);
      renderCounters();
      break;
    case 'filtered':
      renderFilter(frame.filter);
      break;
    case 'subscribed':
      renderFilter(frame.filter);
      state.watching = frame.topics;
      for (const t of frame.topics) state.selected.add(t);
      renderTopics();
      renderWatching();
      showLiveStatus();
      break;
    case 'paused':
    case 'resumed':
      showLiveStatus();
      break;
    case 'error':
      setStatus('offline', `server: ${frame.field} ${frame.rule}`);
      break;
    default:
      break;
  }
}

// ---------- pause / filter ----------
$('pause').addEventListener('click', () => {
  state.paused = !state.paused;
  send({ op: state.paused ? 'pause' : 'resume' });
  $('pause').textContent = state.paused ? 'Resume' : 'Pause';
  showLiveStatus();
});
let filterTimer;
for (const id of ['f-type', 'f-user', 'f-text']) {
  $(id).addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => send({ op: 'filter', ...currentFilter() }), 250);
  });
}
$('clear').addEventListener('click', clearRows);

// ---------- rows ----------
function clearRows() {
  state.pending = [];
  $('messages').replaceChildren();
  renderCounters();
}
function scheduleRender() {
  if (state.frame) return;
  state.frame = requestAnimationFrame(renderPending);
}
function renderPending() {
  state.frame = 0;
  const list = $('messages');
  const batch = state.pending;
  state.pending = [];
  if (batch.length === 0) return;
  list.querySelector('.placeholder')?.remove();
  const fragment = document.createDocumentFragment();
  for (let i = batch.length - 1; i >= 0; i--) fragment.append(messageRow(batch[i], i === batch.length - 1));
  list.prepend(fragment);
  while (list.childElementCount > MAX_ROWS) list.lastElementChild.remove();
  renderCounters();
}

function timeOf(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function messageRow(m, newest) {
  const li = el('li', 'fresh');
  li.dataset.topic = m.topic;
  const details = el('details');
  const summary = el('summary');
  const time = el('time', '', timeOf(m.timestamp));
  time.dateTime = new Date(m.timestamp).toISOString();
  const topic = el('span', 'topic', m.topic);
  topic.style.background = `hsl(${hue(m.topic)} 70% 68%)`;
  summary.append(time, topic, el('span', 'where', `p${m.partition} @${m.offset}`));
  const v = m.value;
  const isObject = v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject && typeof v.type === 'string') summary.append(el('span', 'type', v.type));
  const who = isObject ? (v.subject ?? v.data?.context?.userId) : undefined;
  if (typeof who === 'string') summary.append(el('span', 'subject', who));
  if (isObject && typeof v.id === 'string') li.dataset.id = v.id;
  const preview = typeof v === 'string' ? v : JSON.stringify(v);
  summary.append(el('span', 'preview', preview.length > 300 ? `${preview.slice(0, 300)}…` : preview));
  details.append(summary);
  // The JSON tree is built on first opening: 500 closed rows cost little.
  let built = false;
  const build = () => {
    if (built) return;
    built = true;
    const meta = el('div', 'meta', `${m.topic} · partition ${m.partition} · offset ${m.offset} · key ${m.key === null ? '(none)' : m.key} · ${new Date(m.timestamp).toISOString()}`);
    const pre = el('pre', 'json');
    pre.append(jsonNode(v, 0));
    details.append(meta, pre);
  };
  details.addEventListener('toggle', () => { if (details.open) build(); });
  if (newest && $('expand-new').checked) {
    build();
    details.open = true;
  }
  li.append(details);
  return li;
}

// Pretty JSON: every object and array folds on a click on its bracket; large or deep ones start folded.
function jsonNode(value, depth) {
  if (value === null) return el('span', 'l', 'null');
  if (typeof value === 'string') return el('span', 's', JSON.stringify(value));
  if (typeof value === 'number') return el('span', 'n', String(value));
  if (typeof value === 'boolean') return el('span', 'l', String(value));
  const isArray = Array.isArray(value);
  const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return el('span', 'p', open + close);
  const node = el('span', 'node');
  if (depth >= 4 || entries.length > 40) node.classList.add('folded');
  const opener = el('span', 'p fold', open);
  opener.title = 'fold / unfold';
  opener.addEventListener('click', () => node.classList.toggle('folded'));
  const members = el('span', 'members');
  entries.forEach(([k, v], i) => {
    const line = el('span', 'member');
    if (!isArray) line.append(el('span', 'k', JSON.stringify(k)), el('span', 'p', ': '));
    line.append(jsonNode(v, depth + 1));
    if (i < entries.length - 1) line.append(el('span', 'p', ','));
    members.append(line);
  });
  const folded = el('span', 'ellipsis', ` … ${entries.length} ${isArray ? 'items' : 'keys'} `);
  folded.addEventListener('click', () => node.classList.remove('folded'));
  node.append(opener, members, folded, el('span', 'p', close));
  return node;
}

// ---------- counters and rates ----------
function renderCounters() {
  $('received').textContent = fmt.format(state.received);
  $('shown').textContent = fmt.format($('messages').querySelectorAll(':scope > li:not(.placeholder)').length);
  $('dropped').textContent = fmt.format(state.dropped);
  $('dropped-box').classList.toggle('some', state.dropped > 0);
}
function renderFilter(filter = {}) {
  const parts = [];
  if (filter.type) parts.push(`type = ${filter.type}`);
  if (filter.userId) parts.push(`user = ${filter.userId}`);
  if (filter.text) parts.push(`text ~ ${filter.text}`);
  $('active-filter').textContent = parts.length > 0 ? `filter: ${parts.join(' · ')}` : '';
}
function renderWatching() {
  $('watching').replaceChildren(...state.watching.map((t) => {
    const chip = el('span', 'chip', t);
    chip.style.borderColor = `hsl(${hue(t)} 70% 55%)`;
    return chip;
  }));
}
function renderRates(rates) {
  const list = $('rates');
  const names = Object.keys(rates);
  if (names.length === 0) return;
  list.replaceChildren(...names.map((name) => {
    const history = state.rateHistory.get(name) ?? [];
    history.push(rates[name]);
    if (history.length > SPARK_POINTS) history.shift();
    state.rateHistory.set(name, history);
    const li = el('li');
    const value = el('span', 'value', fmt.format(rates[name]));
    value.append(el('small', '', ' msg/s'));
    li.append(el('span', 'name', name), value, sparkline(history, `hsl(${hue(name)} 70% 62%)`));
    li.title = `${name}: ${rates[name]} messages per second (all messages, before the filter)`;
    return li;
  }));
}
function sparkline(values, color) {
  const w = 260;
  const h = 22;
  const max = Math.max(1, ...values);
  const svg = svgEl('svg', { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: 'none' });
  const step = w / (SPARK_POINTS - 1);
  const offset = (SPARK_POINTS - values.length) * step;
  const points = values.map((v, i) => `${(offset + i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`);
  if (points.length > 1) {
    svg.append(svgEl('polyline', { points: points.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5, 'vector-effect': 'non-scaling-stroke' }));
  }
  return svg;
}

// ---------- stats charts (from the stats consumer, via /api/stats) ----------
async function loadStats() {
  const charts = $('charts');
  const since = new Date(Date.now() - STATS_WINDOW_MIN * 60_000);
  since.setSeconds(0, 0);
  try {
    const answer = await fetch(`/api/stats?since=${encodeURIComponent(since.toISOString())}`);
    if (answer.status === 401) return;
    const body = await answer.json();
    if (!answer.ok) throw new Error(body.message ?? `HTTP ${answer.status}`);
    renderCharts(body.minutes ?? [], since.getTime());
  } catch (err) {
    charts.replaceChildren(el('div', 'note', `Stats unavailable: ${err.message}`));
  }
}

function totals(minutes, field, key) {
  const sums = new Map();
  for (const m of minutes) for (const entry of m[field] ?? []) sums.set(entry[key], (sums.get(entry[key]) ?? 0) + entry.count);
  return [...sums.entries()].sort((a, b) => b[1] - a[1]);
}

function renderCharts(minutes, sinceMs) {
  const charts = $('charts');
  const types = totals(minutes, 'byType', 'type');
  const top = types.slice(0, PALETTE.length - 1).map(([t]) => t);
  const colorOf = (t) => PALETTE[top.indexOf(t)] ?? PALETTE[PALETTE.length - 1];
  const byMinute = new Map(minutes.map((m) => [Date.parse(m.minute), m]));
  const slots = STATS_WINDOW_MIN + 1;
  const w = 600;
  const h = 96;
  const barW = w / slots;
  let max = 1;
  for (const m of minutes) max = Math.max(max, (m.byType ?? []).reduce((s, e) => s + e.count, 0));

  const svg = svgEl('svg', { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'events per minute by type' });
  for (let y = 1; y <= 3; y++) svg.append(svgEl('line', { x1: 0, x2: w, y1: (h * y) / 4, y2: (h * y) / 4, stroke: '#21262d', 'stroke-width': 1, 'vector-effect': 'non-scaling-stroke' }));
  for (let i = 0; i < slots; i++) {
    const t = sinceMs + i * 60_000;
    const minute = byMinute.get(t);
    if (!minute) continue;
    let y = h;
    // Stack the top types bottom-up, the rest as "other".
    const parts = new Map();
    for (const e of minute.byType ?? []) {
      const name = top.includes(e.type) ? e.type : 'other';
      parts.set(name, (parts.get(name) ?? 0) + e.count);
    }
    for (const [name, count] of parts) {
      const bh = (count / max) * (h - 4);
      y -= bh;
      const rect = svgEl('rect', { x: (i * barW + 0.5).toFixed(2), y: y.toFixed(2), width: Math.max(barW - 1, 1).toFixed(2), height: bh.toFixed(2), fill: name === 'other' ? PALETTE[PALETTE.length - 1] : colorOf(name), rx: 1 });
      const title = svgEl('title');
      title.textContent = `${new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} · ${name}: ${count}`;
      rect.append(title);
      svg.append(rect);
    }
  }
  const total = types.reduce((s, [, n]) => s + n, 0);
  const main = el('div', 'chart');
  const heading = el('h3', '', 'Events per minute by type');
  heading.append(el('span', '', `last ${STATS_WINDOW_MIN} min · ${fmt.format(total)} events · peak ${fmt.format(max)}/min`));
  const legend = el('div', 'legend');
  for (const name of [...top, ...(types.length > top.length ? ['other'] : [])]) {
    const item = el('span');
    const swatch = el('i');
    swatch.style.background = name === 'other' ? PALETTE[PALETTE.length - 1] : colorOf(name);
    item.append(swatch, document.createTextNode(name));
    legend.append(item);
  }
  if (total === 0) legend.append(el('span', '', 'no events in this hour'));
  const axis = el('div', 'axis');
  const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  axis.append(el('span', '', clock(sinceMs)), el('span', '', clock(sinceMs + (STATS_WINDOW_MIN / 2) * 60_000)), el('span', '', clock(sinceMs + STATS_WINDOW_MIN * 60_000)));
  main.append(heading, svg, axis, legend);
  charts.replaceChildren(
    main,
    barList('Countries', totals(minutes, 'byCountry', 'country')),
    barList('Devices', totals(minutes, 'byDevice', 'device')),
    barList('Operating systems', totals(minutes, 'byOs', 'os')),
  );
}

function barList(title, entries) {
  const box = el('div', 'chart');
  const heading = el('h3', '', title);
  heading.append(el('span', '', 'last hour'));
  const list = el('ul', 'bars');
  const max = Math.max(1, ...entries.map(([, n]) => n));
  for (const [name, n] of entries.slice(0, 5)) {
    const li = el('li');
    const track = el('span', 'track');
    const fill = el('span', 'fill');
    fill.style.display = 'block';
    fill.style.width = `${(n / max) * 100}%`;
    track.append(fill);
    li.append(el('span', 'label', name), track, el('span', 'n', fmt.format(n)));
    li.title = `${name}: ${n}`;
    list.append(li);
  }
  if (entries.length === 0) list.append(el('li', 'hint', 'none yet'));
  box.append(heading, list);
  return box;
}

// ---------- start ----------
await loadTopics();
connect();
void loadStats(); // it shows its own errors on the page
setInterval(loadStats, STATS_REFRESH_MS);
