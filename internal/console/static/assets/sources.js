// Sources: what arrives from where — per dataset and per listener, rates,
// last events, parse failures with examples, and the processing lag.
// Stale datasets (nothing stored for console.stale_after) and stale
// listeners (nothing received for as long) are flagged.
import { h, clear, fill, fmtTime, fmtNum, fmtRate, fmtAgo, fmtBytes } from './dom.js';
import { api } from './api.js';
import { link } from './nav.js';
import { quote } from './query.js';

const REFRESH_MS = 10000;
let timer = 0;

export async function render(main) {
  document.title = 'Sources – mamori';
  const box = h('div', { id: 'sources-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const stamp = h('span', { class: 'muted small' });
  clear(main).append(h('section', { class: 'sources' },
    h('div', { class: 'bar' }, h('h2', null, 'Sources'), stamp,
      h('button', { type: 'button', onclick: () => load(box, stamp) }, 'Refresh')),
    box));
  await load(box, stamp);
  clearInterval(timer);
  timer = setInterval(() => { if (document.body.contains(box)) load(box, stamp); }, REFRESH_MS);
}

export function leave() {
  clearInterval(timer);
  timer = 0;
}

async function load(box, stamp) {
  let d;
  try {
    d = await api('/api/v1/sources');
  } catch (e) {
    clear(box).append(h('p', { class: 'error' }, `Could not read the sources: ${e.message}`));
    return;
  }
  stamp.textContent = `as of ${fmtTime(d.now)} UTC`;
  const now = new Date(d.now).getTime();
  const stale = d.datasets.filter((x) => x.stale).map((x) => x.dataset)
    .concat(d.listeners.filter((l) => l.stale).map((l) => `${l.listener} (${l.dataset})`));
  const p = d.processing;
  fill(box,
    stale.length ? h('p', { class: 'warn', role: 'status' }, `${stale.length} stale: `, stale.join(', ')) : null,
    h('p', { class: 'small' },
      `Processing lag ${p.lag_seconds.toFixed(1)} s · queue ${fmtNum(p.queue_objects)} objects (${fmtBytes(p.queue_bytes)})`,
      p.ingest_latency_avg_s ? ` · receive → stored ${p.ingest_latency_avg_s.toFixed(2)} s on average` : ''),
    h('h3', null, 'Datasets'),
    h('table', { class: 'list', id: 'datasets' },
      h('thead', null, h('tr', null, ['Dataset', 'Events/s (1m)', 'Events/s (1h)', 'Last stored', 'Newest @timestamp (UTC)', 'Events', 'Parse failures (1h)', 'Status']
        .map((t) => h('th', null, t)))),
      h('tbody', null, d.datasets.map((x) => datasetRows(x, now)))),
    d.datasets.length ? null : h('p', { class: 'muted' }, 'No events stored yet.'),
    h('h3', null, 'Listeners ', h('span', { class: 'muted small' }, 'records received since the server started')),
    h('table', { class: 'list', id: 'listeners' },
      h('thead', null, h('tr', null, ['Listener', 'Dataset', 'Records/s (1m)', 'Records/s (1h)', 'Records', 'Last record', 'Status'].map((t) => h('th', null, t)))),
      h('tbody', null, d.listeners.map((l) => h('tr', { class: l.stale ? 'stale' : '' },
        h('td', null, l.listener), h('td', null, l.dataset),
        h('td', { class: 'num' }, fmtRate(l.per_second_1m)), h('td', { class: 'num' }, fmtRate(l.per_second_1h)),
        h('td', { class: 'num' }, fmtNum(l.records)),
        h('td', null, l.last_record ? fmtAgo(l.last_record, now) : '–'),
        h('td', null, l.stale ? h('span', { class: 'badge stale', title: `nothing received for more than ${l.stale_after}` }, `stale > ${l.stale_after}`) : 'ok'))))),
    d.listeners.length ? null : h('p', { class: 'muted' }, 'Nothing received since the server started.'));
}

function datasetRows(x, now) {
  const q = `event.dataset:${quote(x.dataset)}`;
  const rows = [h('tr', { class: x.stale ? 'stale' : '', dataset: { dataset: x.dataset } },
    h('td', null, h('a', { href: link('/', { q, since: '24h' }) }, x.dataset)),
    h('td', { class: 'num' }, fmtRate(x.per_second_1m)),
    h('td', { class: 'num' }, fmtRate(x.per_second_1h)),
    h('td', { title: `${fmtTime(x.last_ingested)} UTC` }, fmtAgo(x.last_ingested, now)),
    h('td', { class: 'time' }, fmtTime(x.last_timestamp)),
    h('td', { class: 'num' }, fmtNum(x.events)),
    h('td', { class: 'num' }, x.failures ? h('a', { href: link('/', { q: `${q} AND event.kind:pipeline_error`, since: '30d' }) },
      `${fmtNum(x.failures)} (${fmtNum(x.failures_last_hour)})`) : '0'),
    h('td', null, x.stale ? h('span', { class: 'badge stale', title: `nothing stored for more than ${x.stale_after}` }, `stale > ${x.stale_after}`)
      : h('span', { class: 'badge ok' }, 'ok')))];
  if (x.failure_examples && x.failure_examples.length) {
    rows.push(h('tr', { class: 'examples' }, h('td', { colspan: 8 },
      h('details', null, h('summary', null, `Parse failures of ${x.dataset}: the newest ${x.failure_examples.length}`),
        x.failure_examples.map((f) => h('div', { class: 'example' },
          h('div', { class: 'muted small' }, `${fmtTime(f.time)} UTC · ${f.error}`),
          h('pre', null, f.original)))))));
  }
  return rows;
}
