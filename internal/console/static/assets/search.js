// The search page: query box, time range, histogram, facets, results and
// the full document of an event. The URL holds the query and the range
// (/?q=...&since=1h or &from=...&to=...), so a search is a link.
import { h, clear, fmtTime, fmtNum } from './dom.js';
import { api, queryError } from './api.js';
import { navigate, link } from './nav.js';
import { addClause, clause, pivotField } from './query.js';
import { eventRow, eventDoc, get } from './event.js';
import { renderHistogram, histogramNote } from './histogram.js';

const PAGE = 50;
export const DEFAULT_SINCE = '24h';
const RANGES = [['15m', 'Last 15 minutes'], ['1h', 'Last hour'], ['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['custom', 'Absolute range…']];

let view = null;

// state reads the search from the URL.
function state() {
  const p = new URLSearchParams(location.search);
  const s = { q: p.get('q') || '', since: p.get('since') || '', from: p.get('from') || '', to: p.get('to') || '' };
  if (!s.since && !s.from && !s.to) s.since = DEFAULT_SINCE;
  return s;
}

function rangeParams(s) {
  return s.since ? { since: s.since } : { from: s.from, to: s.to };
}

// searchURL is the link of a search.
export function searchURL(q, range) {
  return link('/', { q, ...range });
}

// toLocalInput and fromLocalInput convert between RFC 3339 and the value of
// a datetime-local input, read as UTC.
function toLocalInput(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 19);
}
function fromLocalInput(v) {
  if (!v) return '';
  return (v.length === 16 ? v + ':00' : v) + 'Z';
}

function build(main) {
  const v = {};
  v.q = h('input', { id: 'q', type: 'search', name: 'q', placeholder: 'Search: a keyword, an IP, field:value, NOT …   (press / to focus)',
    autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Query' });
  v.range = h('select', { id: 'range', 'aria-label': 'Time range' }, RANGES.map(([val, label]) => h('option', { value: val }, label)));
  v.from = h('input', { id: 'from', type: 'datetime-local', step: 1, 'aria-label': 'From (UTC)' });
  v.to = h('input', { id: 'to', type: 'datetime-local', step: 1, 'aria-label': 'To (UTC)' });
  v.custom = h('span', { class: 'custom' }, v.from, ' – ', v.to, h('span', { class: 'muted' }, ' UTC'));
  v.range.addEventListener('change', () => {
    v.custom.hidden = v.range.value !== 'custom';
    if (v.range.value !== 'custom') submit();
    else v.from.focus();
  });
  const form = h('form', { class: 'bar', role: 'search', onsubmit: (e) => { e.preventDefault(); submit(); } },
    v.q, v.range, v.custom, h('button', { type: 'submit', class: 'primary' }, 'Search'));
  v.err = h('div', { id: 'qerror', class: 'qerror', role: 'alert', hidden: true });
  v.total = h('span', { id: 'total', class: 'total' });
  v.note = h('span', { id: 'histnote' });
  v.hist = h('div', { id: 'histogram', class: 'histogram-box' });
  v.facets = h('aside', { id: 'facets', class: 'facets', 'aria-label': 'Top values' });
  v.rows = h('tbody', { id: 'rows' });
  v.more = h('button', { id: 'more', type: 'button', hidden: true, onclick: () => more() }, 'Load more');
  v.status = h('span', { id: 'status', class: 'muted' });
  v.detail = h('aside', { id: 'detail', class: 'detail', hidden: true, 'aria-label': 'Event' });
  v.root = h('section', { class: 'search' },
    form, v.err,
    h('div', { class: 'summary-line' }, v.total, v.note),
    v.hist,
    h('div', { class: 'body' },
      v.facets,
      h('div', { class: 'results-col' },
        h('table', { class: 'results' },
          h('thead', null, h('tr', null, h('th', { class: 'time' }, 'Time (UTC)'), h('th', null, 'Dataset'), h('th', null, 'Host'), h('th', null, 'Event'))),
          v.rows),
        h('div', { class: 'more-row' }, v.more, ' ', v.status))),
    v.detail);
  clear(main).append(v.root);
  // Infinite scroll: the "Load more" button loads itself once in view.
  v.observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !v.more.hidden && !v.loading) more();
  });
  v.observer.observe(v.more);
  let resizeTimer = 0;
  v.onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (v.histData) drawHistogram(v.histData); }, 150);
  };
  window.addEventListener('resize', v.onResize);
  view = v;
}

function submit() {
  const s = { q: view.q.value.trim() };
  if (view.range.value === 'custom') {
    s.from = fromLocalInput(view.from.value);
    s.to = fromLocalInput(view.to.value);
  } else {
    s.since = view.range.value;
  }
  navigate(searchURL(s.q, s.since ? { since: s.since } : { from: s.from, to: s.to }));
}

function apply(q) {
  navigate(searchURL(q, rangeParams(view.state)));
}

export function render(main) {
  if (!view || !main.contains(view.root)) build(main);
  const s = state();
  view.state = s;
  if (document.activeElement !== view.q || view.q.value.trim() !== s.q) view.q.value = s.q;
  if (s.since) {
    if (![...view.range.options].some((o) => o.value === s.since)) {
      view.range.append(h('option', { value: s.since }, `Last ${s.since}`));
    }
    view.range.value = s.since;
  } else {
    view.range.value = 'custom';
    view.from.value = toLocalInput(s.from);
    view.to.value = s.to ? toLocalInput(s.to) : '';
  }
  view.custom.hidden = view.range.value !== 'custom';
  document.title = s.q ? `${s.q} – mamori` : 'Search – mamori';
  closeDetail();
  run(s);
}

export function leave() {
  if (!view) return;
  if (view.ctrl) view.ctrl.abort();
  view.observer.disconnect();
  window.removeEventListener('resize', view.onResize);
  view = null;
}

// focusQuery puts the cursor in the query box ("/").
export function focusQuery() {
  if (!view) return false;
  view.q.focus();
  view.q.select();
  return true;
}

export function onKey(e) {
  if (!view) return;
  if (e.key === 'Escape' && !view.detail.hidden) {
    closeDetail();
    return;
  }
  if (e.key === 'j' || e.key === 'k') {
    const rows = [...view.rows.querySelectorAll('tr.event')];
    if (!rows.length) return;
    const i = rows.indexOf(document.activeElement);
    const next = e.key === 'j' ? Math.min(rows.length - 1, i + 1) : Math.max(0, i - 1);
    rows[next].focus();
  }
}

function showQueryError(qe, q) {
  const pos = qe.position;
  clear(view.err).append(h('strong', null, 'Query error: '), qe.message);
  if (pos !== null && pos >= 0) {
    view.err.append(h('pre', { class: 'caret' }, q, '\n', ' '.repeat(Math.min(pos, q.length)) + '^'));
    view.q.focus();
    view.q.setSelectionRange(pos, pos);
  }
  view.err.hidden = false;
}

async function run(s) {
  if (view.ctrl) view.ctrl.abort();
  const ctrl = new AbortController();
  view.ctrl = ctrl;
  const signal = ctrl.signal;
  const range = rangeParams(s);
  view.err.hidden = true;
  view.next = '';
  view.more.hidden = true;
  view.status.textContent = 'Searching…';
  view.total.textContent = '';
  // Busy until this search's histogram is drawn (the old one stays until
  // then, so the page does not jump).
  view.hist.setAttribute('aria-busy', 'true');
  const buckets = Math.max(20, Math.min(150, Math.floor((view.hist.clientWidth || 900) / 8)));
  const searchP = api('/api/v1/search', { params: { q: s.q, ...range, limit: PAGE }, signal });
  const histP = api('/api/v1/histogram', { params: { q: s.q, ...range, buckets }, signal });
  const facetsP = api('/api/v1/facets', { params: { q: s.q, ...range }, signal });
  // None of them may report an error the search reports better.
  histP.catch(() => {});
  facetsP.catch(() => {});
  let res;
  try {
    res = await searchP;
  } catch (e) {
    if (signal.aborted) return;
    clear(view.rows);
    clear(view.hist);
    clear(view.facets);
    view.note.textContent = '';
    const qe = queryError(e);
    if (qe) showQueryError(qe, s.q);
    else view.status.textContent = `Search failed: ${e.message}`;
    if (qe) view.status.textContent = '';
    return;
  }
  clear(view.rows);
  showPage(res);
  const total = res.total === undefined || res.total === null ? '' :
    `${res.total_relation === 'gte' ? '≥ ' : ''}${fmtNum(res.total)} event${res.total === 1 ? '' : 's'}`;
  view.total.textContent = total ? `${total} · ${res.took_ms.toFixed(0)} ms` : `${res.took_ms.toFixed(0)} ms`;
  histP.then((hd) => {
    if (signal.aborted) return;
    view.histData = hd;
    drawHistogram(hd);
  }, (e) => {
    if (signal.aborted) return;
    view.hist.removeAttribute('aria-busy');
    view.note.textContent = `histogram: ${e.message}`;
  });
  facetsP.then((fd) => { if (!signal.aborted) drawFacets(fd); }, (e) => {
    if (!signal.aborted) clear(view.facets).append(h('p', { class: 'muted' }, `Facets: ${e.message}`));
  });
}

function drawHistogram(hd) {
  view.hist.removeAttribute('aria-busy');
  clear(view.note).append(histogramNote(hd));
  renderHistogram(view.hist, hd, {
    onZoom: (from, to) => navigate(searchURL(view.state.q, { from: from.toISOString(), to: to.toISOString() })),
  });
}

function showPage(res) {
  for (const ev of res.events) view.rows.append(eventRow(ev, { onOpen: openDetail }));
  view.next = res.next || '';
  view.more.hidden = !view.next;
  const n = view.rows.children.length;
  view.status.textContent = n === 0 ? 'No events match.' : view.next ? `${fmtNum(n)} shown` : `${fmtNum(n)} shown, no more`;
}

async function more() {
  if (!view.next || view.loading) return;
  view.loading = true;
  const s = view.state;
  const signal = view.ctrl.signal;
  view.status.textContent = 'Loading…';
  try {
    const res = await api('/api/v1/search', { params: { q: s.q, ...rangeParams(s), limit: PAGE, cursor: view.next, count: 'false' }, signal });
    if (!signal.aborted) showPage(res);
  } catch (e) {
    if (!signal.aborted) view.status.textContent = `Loading more failed: ${e.message}`;
  } finally {
    if (view) view.loading = false;
  }
}

function drawFacets(fd) {
  clear(view.facets);
  if (fd.sample_percent) {
    view.facets.append(h('p', { class: 'note approx' }, `Counts (≈) estimated from a random ${fd.sample_percent.toFixed(1)} % of the matches.`));
  } else if (fd.sampled && fd.sample_size > 0) {
    view.facets.append(h('p', { class: 'note approx' }, `Some counts are from the newest ${fmtNum(fd.sample_size)} matches.`));
  }
  for (const f of fd.facets) {
    if (!f.values.length) continue;
    const max = Math.max(...f.values.map((x) => x.count));
    const pf = pivotField(f.field);
    view.facets.append(h('section', { class: 'facet', dataset: { field: f.field } },
      h('h3', null, f.field, f.estimated ? h('small', { title: 'estimated from a random sample of the matches' }, ' ≈')
        : f.sampled ? h('small', { title: 'counted over the newest matches' }, ' sampled') : null),
      h('ul', null, f.values.map((x) => h('li', null,
        h('button', { type: 'button', class: 'fv', title: `Filter for ${f.field}: ${x.value}`, onclick: () => apply(addClause(view.state.q, clause(f.field, x.value))) }, x.value),
        h('span', { class: 'count' }, fmtNum(x.count)),
        h('button', { type: 'button', class: 'mini not', title: 'Filter out', 'aria-label': `filter out ${x.value}`, onclick: () => apply(addClause(view.state.q, clause(f.field, x.value, true))) }, '−'),
        pf && h('button', { type: 'button', class: 'mini pivot', title: `Everything about ${x.value}`, 'aria-label': `pivot on ${x.value}`, onclick: () => apply(clause(pf, x.value)) }, '⇄'),
        h('span', { class: 'bar', style: { width: `${Math.round((x.count / max) * 100)}%` } })))),
      f.other > 0 ? h('p', { class: 'muted other' }, `${fmtNum(f.other)} other`) : null));
  }
  if (!view.facets.children.length) view.facets.append(h('p', { class: 'muted' }, 'No values.'));
}

function openDetail(ev, row) {
  for (const r of view.rows.querySelectorAll('tr.selected')) r.classList.remove('selected');
  row.classList.add('selected');
  const close = h('button', { type: 'button', class: 'close', title: 'Close (Esc)', onclick: closeDetail }, '×');
  clear(view.detail).append(
    h('header', null,
      h('div', null, h('strong', null, fmtTime(get(ev, '@timestamp'))), ' UTC · ', get(ev, 'event.dataset') || ''),
      close),
    h('p', { class: 'muted id' }, get(ev, 'event.id') || ''),
    eventDoc(ev, {
      onFilter: (field, value, negate) => apply(addClause(view.state.q, clause(field, value, negate))),
      onPivot: (field, value) => apply(clause(field, value)),
    }));
  view.detail.hidden = false;
  close.focus();
}

function closeDetail() {
  if (!view || view.detail.hidden) return;
  view.detail.hidden = true;
  const sel = view.rows.querySelector('tr.selected');
  if (sel) sel.focus();
}
