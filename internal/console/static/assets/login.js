// The login page (/login?next=/path). A server without users needs none:
// the page then goes straight on.
import { h, clear } from './dom.js';
import { api, session, loadSession } from './api.js';
import { safeNext } from './nav.js';

export async function render(main) {
  document.title = 'Log in – mamori';
  const next = safeNext(new URLSearchParams(location.search).get('next') || '/');
  await loadSession();
  if (!session.authRequired || session.loggedIn) {
    location.replace(next);
    return;
  }
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('p', { class: 'error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', { class: 'login', onsubmit: async (e) => {
    e.preventDefault();
    msg.hidden = true;
    button.disabled = true;
    try {
      await api('/api/v1/auth/login', { method: 'POST', body: { username: user.value, password: pass.value } });
      location.replace(next);
    } catch (err) {
      msg.textContent = err.status === 429 ? 'Too many attempts: wait a moment and try again.' :
        err.status === 401 ? 'Wrong user name or password.' : `Could not log in: ${err.message}`;
      msg.hidden = false;
      pass.value = '';
      pass.focus();
    } finally {
      button.disabled = false;
    }
  } },
  h('h2', null, 'Log in to mamori'),
  h('label', { for: 'username' }, 'User name'), user,
  h('label', { for: 'password' }, 'Password'), pass,
  msg, button);
  clear(main).append(form);
  user.focus();
}
