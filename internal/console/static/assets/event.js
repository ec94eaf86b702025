// One event: its summary row and its full ECS document.
import { h, fmtTime } from './dom.js';
import { pivotField } from './query.js';

// flatten lists the document's fields as [dotted name, value] pairs, a
// list's scalars as one value each.
export function flatten(doc, prefix = '', out = []) {
  for (const [k, v] of Object.entries(doc || {})) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      flatten(v, name, out);
    } else if (Array.isArray(v)) {
      for (const el of v) {
        if (el !== null && typeof el === 'object') out.push([name, JSON.stringify(el)]);
        else out.push([name, el]);
      }
    } else {
      out.push([name, v]);
    }
  }
  return out;
}

// get reads a dotted field of a nested document.
export function get(doc, field) {
  if (doc && Object.prototype.hasOwnProperty.call(doc, field)) return doc[field];
  let v = doc;
  for (const part of field.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    if (Object.prototype.hasOwnProperty.call(v, part)) {
      v = v[part];
    } else {
      return undefined;
    }
  }
  return v;
}

// summary is an event in one line: its action and message, or, for a
// structured log without a message (CloudTrail, VPC flows), who did what
// from where; the raw line when none of that is known.
export function summary(ev) {
  const action = get(ev, 'event.action');
  const message = get(ev, 'message') || get(ev, 'error.message');
  let text;
  if (message) {
    text = action && !String(message).includes(action) ? `${action} · ${message}` : message;
  } else {
    const src = get(ev, 'source.ip');
    const dst = get(ev, 'destination.ip');
    const parts = [action, get(ev, 'event.outcome'), get(ev, 'user.name') && `user ${get(ev, 'user.name')}`,
      src && (dst ? `${src} → ${dst}` : `from ${src}`), get(ev, 'url.original')].filter(Boolean);
    text = parts.length >= 2 ? parts.join(' · ') : get(ev, 'event.original') || action || '';
  }
  return String(text).replace(/\s+/g, ' ').slice(0, 400);
}

// eventRow is one line of a result list.
export function eventRow(ev, { onOpen, marked } = {}) {
  const row = h('tr', { class: marked ? 'event marked' : 'event', tabindex: 0, dataset: { id: get(ev, 'event.id') || '' } },
    h('td', { class: 'time' }, marked ? '● ' : '', fmtTime(get(ev, '@timestamp'))),
    h('td', { class: 'ds' }, get(ev, 'event.dataset') || ''),
    h('td', { class: 'host' }, get(ev, 'host.name') || get(ev, 'observer.hostname') || ''),
    h('td', { class: 'summary' }, summary(ev)));
  if (onOpen) {
    row.addEventListener('click', () => onOpen(ev, row));
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter') onOpen(ev, row); });
  }
  return row;
}

// eventDoc shows every field of an event with what can be done with each
// value: filter for it (+), filter it out (−), and for an address, user or
// host, pivot to everything about it.
export function eventDoc(ev, { onFilter, onPivot } = {}) {
  const rows = flatten(ev).sort((a, b) => a[0].localeCompare(b[0]));
  return h('table', { class: 'doc' },
    h('tbody', null, rows.map(([field, value]) => {
      const text = value === null ? 'null' : String(value);
      const pf = pivotField(field);
      return h('tr', { dataset: { field } },
        h('th', { scope: 'row' }, field),
        h('td', { class: 'actions' },
          onFilter && h('button', { type: 'button', class: 'mini add', title: `Filter for ${field}: this value`, 'aria-label': `filter for ${field}`, onclick: () => onFilter(field, text, false) }, '+'),
          onFilter && h('button', { type: 'button', class: 'mini not', title: `Filter out ${field}: this value`, 'aria-label': `filter out ${field}`, onclick: () => onFilter(field, text, true) }, '−'),
          onPivot && pf && h('button', { type: 'button', class: 'mini pivot', title: `Everything about this value (${pf})`, 'aria-label': `pivot on ${field}`, onclick: () => onPivot(pf, text) }, '⇄')),
        h('td', { class: 'value' }, text));
    })));
}
