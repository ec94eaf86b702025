// The HTTP API, and who is logged in.
import { safeNext } from './nav.js';

// session is what /api/v1/auth/me said: whether logging in is required,
// who is logged in, and the CSRF token state-changing requests carry.
export const session = { authRequired: false, loggedIn: false, username: '', role: '', csrf: '' };

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

function toLogin() {
  const next = safeNext(location.pathname + location.search);
  location.assign('/login?next=' + encodeURIComponent(next));
}

// api calls the API; it throws ApiError for a non-2xx answer. A 401 on a
// data request means the session ended: the browser goes to the login page.
export async function api(path, { method = 'GET', params, body, signal } = {}) {
  let url = path;
  if (params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== '') u.set(k, v);
    }
    const qs = u.toString();
    if (qs) url += '?' + qs;
  }
  const headers = { Accept: 'application/json' };
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  const resp = await fetch(url, { method, headers, body: payload, signal, credentials: 'same-origin' });
  let data = null;
  if (resp.status !== 204) {
    try { data = await resp.json(); } catch { data = null; }
  }
  if (resp.status === 401 && !path.startsWith('/api/v1/auth/') && location.pathname !== '/login') {
    toLogin();
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

// loadSession asks who is logged in. A server without access control
// (no /api/v1/auth/me, or auth_required false) needs no login.
export async function loadSession() {
  try {
    const me = await api('/api/v1/auth/me');
    session.authRequired = !!me.auth_required;
    session.loggedIn = session.authRequired;
    session.username = me.username || '';
    session.role = me.role || '';
    session.csrf = me.csrf_token || '';
  } catch (e) {
    if (e.status === 401) {
      session.authRequired = true;
      session.loggedIn = false;
    } else {
      session.authRequired = false;
    }
  }
  return session;
}

export async function logout() {
  try { await api('/api/v1/auth/logout', { method: 'POST' }); } catch { /* the cookie is gone either way */ }
  session.loggedIn = false;
  session.csrf = '';
  location.assign('/login');
}

// queryError turns a 400 with a position into {message, position}.
export function queryError(e) {
  if (e instanceof ApiError && e.status === 400) {
    return { message: e.message, position: typeof e.body.position === 'number' ? e.body.position : null };
  }
  return null;
}
