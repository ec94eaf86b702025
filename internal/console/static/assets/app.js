// The console's entry point: who is logged in, which page the URL names,
// and the keyboard.
import { h, clear } from './dom.js';
import { loadSession, session, logout } from './api.js';
import { navigate } from './nav.js';
import * as search from './search.js';
import * as alerts from './alerts.js';
import * as sources from './sources.js';
import * as login from './login.js';

// routes map a path to its page; nav names the header link to highlight.
const routes = [
  { re: /^\/(search)?$/, nav: 'search', page: search, render: (m) => search.render(m) },
  { re: /^\/alerts$/, nav: 'alerts', page: alerts, render: (m) => alerts.renderList(m) },
  { re: /^\/alerts\/([^/]+)$/, nav: 'alerts', page: alerts, render: (m, id) => alerts.renderDetail(m, decodeURIComponent(id)) },
  { re: /^\/sources$/, nav: 'sources', page: sources, render: (m) => sources.render(m) },
  { re: /^\/login$/, nav: '', page: login, render: (m) => login.render(m) },
];

let current = null;

function route() {
  const main = document.getElementById('main');
  const r = routes.find((x) => x.re.test(location.pathname));
  if (current && current !== (r && r.page) && current.leave) current.leave();
  current = r ? r.page : null;
  for (const a of document.querySelectorAll('header nav a')) {
    a.classList.toggle('active', !!r && a.dataset.nav === r.nav);
  }
  if (!r) {
    clear(main).append(h('p', null, 'No such page. ', h('a', { href: '/' }, 'Search')));
    return;
  }
  const m = location.pathname.match(r.re);
  Promise.resolve(r.render(main, m[1])).catch((e) => {
    clear(main).append(h('p', { class: 'error' }, `Something went wrong: ${e.message}`));
  });
}

function showWho() {
  const who = document.getElementById('who');
  clear(who);
  if (session.authRequired && session.loggedIn) {
    who.append(h('span', null, session.username), h('span', { class: 'muted' }, ` (${session.role})`), ' ',
      h('button', { type: 'button', class: 'link', onclick: logout }, 'Log out'));
  }
}

function typing(el) {
  return el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || a.target) return;
  if (a.origin !== location.origin || a.pathname.startsWith('/api/') || a.pathname.startsWith('/assets/')) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
});

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === '/' && !typing(e.target)) {
    e.preventDefault();
    if (!search.focusQuery()) navigate('/');
    return;
  }
  if (e.key === 'Escape' && e.target && e.target.id === 'q') e.target.blur();
  if (!typing(e.target) && current && current.onKey) current.onKey(e);
});

window.addEventListener('popstate', route);
window.addEventListener('mamori:navigate', route);

async function boot() {
  await loadSession();
  if (session.authRequired && !session.loggedIn && location.pathname !== '/login') {
    location.replace('/login?next=' + encodeURIComponent(location.pathname + location.search));
    return;
  }
  showWho();
  route();
}

boot();
