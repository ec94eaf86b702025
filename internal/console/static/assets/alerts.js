// Alerts: the list with its filters (/alerts?status=&min_severity=&rule=),
// and one alert (/alerts/{id}) with its timeline, acknowledged or resolved
// from here.
import { h, clear, fmtTime, fmtNum, fmtAgo } from './dom.js';
import { api, session } from './api.js';
import { navigate, link } from './nav.js';
import { addClause, clause } from './query.js';
import { eventRow, eventDoc, get } from './event.js';

const STATUSES = [['', 'Any status'], ['open', 'Open'], ['acknowledged', 'Acknowledged'], ['open,acknowledged', 'Open or acknowledged'], ['resolved', 'Resolved']];
const SEVERITIES = [['', 'Any severity'], ['low', 'Low and above'], ['medium', 'Medium and above'], ['high', 'High and above'], ['critical', 'Critical']];

function select(id, label, options, value) {
  return h('select', { id, 'aria-label': label }, options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));
}

function badge(kind, value) {
  return h('span', { class: `badge ${kind}-${value}` }, value);
}

export async function renderList(main) {
  const p = new URLSearchParams(location.search);
  const f = { status: p.get('status') || '', min_severity: p.get('min_severity') || '', rule: p.get('rule') || '' };
  document.title = 'Alerts – mamori';
  const status = select('status', 'Status', STATUSES, f.status);
  const severity = select('severity', 'Minimum severity', SEVERITIES, f.min_severity);
  const rule = h('input', { id: 'rule', type: 'search', placeholder: 'Rule id', value: f.rule, 'aria-label': 'Rule id' });
  const go = () => navigate(link('/alerts', { status: status.value, min_severity: severity.value, rule: rule.value.trim() }));
  status.addEventListener('change', go);
  severity.addEventListener('change', go);
  const rows = h('tbody', { id: 'alert-rows' });
  const msg = h('p', { class: 'muted' }, 'Loading…');
  clear(main).append(h('section', { class: 'alerts' },
    h('form', { class: 'bar filters', onsubmit: (e) => { e.preventDefault(); go(); } },
      h('h2', null, 'Alerts'), status, severity, rule, h('button', { type: 'submit' }, 'Filter')),
    h('table', { class: 'list alerts-list' },
      h('thead', null, h('tr', null, ['Severity', 'Alert', 'Rule', 'Status', 'Events', 'Last seen (UTC)'].map((t) => h('th', null, t)))),
      rows),
    msg));
  let data;
  try {
    data = await api('/api/v1/alerts', { params: { ...f, limit: 200 } });
  } catch (e) {
    msg.textContent = e.status === 404 ? 'Detection is not running on this server.' : `Could not list alerts: ${e.message}`;
    return;
  }
  msg.textContent = data.alerts.length ? '' : 'No alerts match.';
  for (const a of data.alerts) {
    const href = `/alerts/${encodeURIComponent(a.id)}`;
    const tr = h('tr', { class: `alert status-${a.status}`, tabindex: 0, dataset: { id: a.id } },
      h('td', null, badge('sev', a.severity)),
      h('td', null, h('a', { href }, a.title || a.rule_title || a.rule_id), h('div', { class: 'muted small clip', title: a.summary || '' }, a.summary || '')),
      h('td', { class: 'small' }, h('a', { href: link('/alerts', { rule: a.rule_id }), title: 'Alerts of this rule' }, a.rule_id)),
      h('td', null, badge('st', a.status)),
      h('td', { class: 'num' }, fmtNum(a.event_count)),
      h('td', { class: 'time' }, fmtTime(a.last_seen), h('div', { class: 'muted small' }, fmtAgo(a.last_seen))));
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') navigate(href); });
    rows.append(tr);
  }
}

export async function renderDetail(main, id) {
  document.title = 'Alert – mamori';
  clear(main).append(h('p', { class: 'muted' }, 'Loading…'));
  let data;
  try {
    data = await api(`/api/v1/alerts/${encodeURIComponent(id)}`);
  } catch (e) {
    clear(main).append(h('p', { class: 'error' }, e.status === 404 ? 'No such alert.' : `Could not read the alert: ${e.message}`),
      h('p', null, h('a', { href: '/alerts' }, '← Alerts')));
    return;
  }
  const a = data.alert;
  document.title = `${a.title} – mamori`;
  const own = new Set(a.event_ids || []);
  const actionMsg = h('span', { class: 'muted', role: 'status' });
  const change = async (what) => {
    actionMsg.textContent = 'Saving…';
    try {
      await api(`/api/v1/alerts/${encodeURIComponent(a.id)}/${what}`, { method: 'POST', body: { by: session.username || 'console' } });
      renderDetail(main, id);
    } catch (e) {
      actionMsg.textContent = `Failed: ${e.message}`;
    }
  };
  const buttons = [];
  if (a.status === 'open') buttons.push(h('button', { type: 'button', id: 'ack', class: 'primary', onclick: () => change('ack') }, 'Acknowledge'));
  if (a.status !== 'resolved') buttons.push(h('button', { type: 'button', id: 'resolve', onclick: () => change('resolve') }, 'Resolve'));

  const facts = [
    ['Rule', a.rule_title ? `${a.rule_title} (${a.rule_id})` : a.rule_id],
    ['Dataset', a.dataset],
    ['Grouped by', (a.group_key || []).join(', ')],
    ['First seen', `${fmtTime(a.first_seen)} UTC`],
    ['Last seen', `${fmtTime(a.last_seen)} UTC (${fmtAgo(a.last_seen)})`],
    ['Events', `${fmtNum(a.event_count)} in ${fmtNum(a.match_count)} match${a.match_count === 1 ? '' : 'es'}`],
  ];
  if (a.acknowledged_by) facts.push(['Acknowledged', `by ${a.acknowledged_by}, ${fmtTime(a.acknowledged_at)} UTC`]);
  if (a.resolved_by) facts.push(['Resolved', `by ${a.resolved_by}, ${fmtTime(a.resolved_at)} UTC`]);
  if (data.deliveries.length) {
    facts.push(['Notifications', data.deliveries.map((d) => `${d.notifier} ${d.kind}: ${d.state}`).join('; ')]);
  }

  const detail = h('div', { class: 'inline-detail', hidden: true });
  const rows = h('tbody', { id: 'timeline-rows' });
  let timeline;
  const ctx = data.context;
  if (ctx) {
    const searchHref = link('/', { q: ctx.query, from: ctx.from, to: ctx.to });
    for (const ev of ctx.events) {
      rows.append(eventRow(ev, { marked: own.has(get(ev, 'event.id')), onOpen: (e, row) => openInline(e, row, detail, rows, ctx) }));
    }
    timeline = h('section', { class: 'timeline' },
      h('h3', null, 'Timeline ', h('span', { class: 'muted small' },
        `±30 minutes, events sharing an address, user or host · ● the alert's own events · ${fmtTime(ctx.from)} – ${fmtTime(ctx.to)} UTC`)),
      ctx.query ? h('p', { class: 'small' }, h('a', { href: searchHref, id: 'open-search' }, 'Open in search'), ' ', h('code', null, ctx.query)) : null,
      h('table', { class: 'results' },
        h('thead', null, h('tr', null, h('th', { class: 'time' }, 'Time (UTC)'), h('th', null, 'Dataset'), h('th', null, 'Host'), h('th', null, 'Event'))),
        rows),
      ctx.events.length ? null : h('p', { class: 'muted' }, 'No related events.'),
      ctx.next ? h('p', null, h('a', { href: searchHref }, 'More in search…')) : null,
      detail);
  } else {
    timeline = h('p', { class: 'error' }, `Timeline unavailable: ${data.context_error || 'not asked for'}`);
  }

  clear(main).append(h('section', { class: 'alert-detail' },
    h('p', null, h('a', { href: '/alerts' }, '← Alerts')),
    h('header', null,
      h('h2', null, badge('sev', a.severity), ' ', a.title),
      h('div', { class: 'actions' }, badge('st', a.status), ...buttons, actionMsg)),
    a.summary ? h('p', null, a.summary) : null,
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', null, k), h('dd', null, v || '–')])),
    timeline));
}

function openInline(ev, row, box, rows, ctx) {
  for (const r of rows.querySelectorAll('tr.selected')) r.classList.remove('selected');
  row.classList.add('selected');
  const range = { from: ctx.from, to: ctx.to };
  clear(box).append(
    h('header', null, h('strong', null, fmtTime(get(ev, '@timestamp'))), ' UTC · ', get(ev, 'event.dataset') || '',
      h('button', { type: 'button', class: 'close', title: 'Close', onclick: () => { box.hidden = true; row.classList.remove('selected'); } }, '×')),
    eventDoc(ev, {
      onFilter: (field, value, negate) => navigate(link('/', { q: addClause(ctx.query, clause(field, value, negate)), ...range })),
      onPivot: (field, value) => navigate(link('/', { q: clause(field, value), ...range })),
    }));
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest' });
}
