// In-page navigation: the URL is the state, so that every view can be
// shared as a link and back/forward work.

export function navigate(url, { replace = false } = {}) {
  if (url === location.pathname + location.search) {
    if (!replace) window.dispatchEvent(new Event('mamori:navigate'));
    return;
  }
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  window.dispatchEvent(new Event('mamori:navigate'));
}

// link returns a URL path with query parameters, leaving out empty ones.
export function link(path, params = {}) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, v);
  }
  const qs = u.toString();
  return qs ? `${path}?${qs}` : path;
}

// safeNext keeps a post-login destination on this site: a path, not
// another origin ("//host" or "/\host" would be one).
export function safeNext(next) {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next.startsWith('/login')) return '/';
  return next;
}
