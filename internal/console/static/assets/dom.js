// Building the page without markup: every piece of data becomes a text
// node or an attribute value, never HTML. Log data is written by whoever
// sends logs, so nothing from it may ever be parsed as markup.

const SVG = 'http://www.w3.org/2000/svg';

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k === 'style') {
      // CSSOM, not a style attribute: allowed by the strict CSP.
      for (const [p, pv] of Object.entries(v)) el.style.setProperty(p, pv);
    } else if (k === 'value' || k === 'checked' || k === 'selected') {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// h makes an HTML element: h('a', {href: '/x', onclick: fn}, 'text', child).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// svg makes an SVG element the same way.
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// fill replaces an element's children, leaving out null, undefined and
// false as h does (the DOM's own append would write "null").
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// fmtTime shows a time in UTC: 2026-11-20 10:04:05 (with milliseconds
// when there are any).
export function fmtTime(t) {
  if (!t) return '';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  let s = d.toISOString().replace('T', ' ').replace('Z', '');
  if (s.endsWith('.000')) s = s.slice(0, -4);
  return s;
}

// fmtAgo shows how long ago a time was: 12s, 5m, 3h, 2d.
export function fmtAgo(t, now = Date.now()) {
  if (!t) return 'never';
  const d = new Date(t).getTime();
  if (Number.isNaN(d) || d <= 0) return 'never';
  let s = Math.max(0, Math.round((now - d) / 1000));
  if (s < 60) return `${s}s ago`;
  s = Math.round(s / 60);
  if (s < 60) return `${s}m ago`;
  s = Math.round(s / 60);
  if (s < 48) return `${s}h ago`;
  return `${Math.round(s / 24)}d ago`;
}

export function fmtNum(n) {
  return Number(n || 0).toLocaleString('en-US');
}

export function fmtRate(r) {
  if (r === undefined || r === null) return '–';
  if (r === 0) return '0';
  if (r < 0.1) return r.toFixed(3);
  if (r < 10) return r.toFixed(1);
  return Math.round(r).toLocaleString('en-US');
}

export function fmtBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  n = Number(n || 0);
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}
