// The admin sign-in box and the "who" line in the header.
import { session, login, logout } from '../api.js';
import { h, render, announce, errorBox } from '../dom.js';
import { $, isAdmin } from './shared.js';

let onChange = () => {};
export function mount(_section, { refreshAll }) {
  onChange = refreshAll;
  refresh();
}

export function refresh() {
  const s = session();
  render(
    $('who'),
    s
      ? [`${s.email || 'signed in'}${s.isAdmin ? ' (admin)' : ''} `, h('button', { type: 'button', class: 'link', onclick: () => logout().then(onChange) }, 'Log out')]
      : null,
  );
  const box = $('signin');
  box.hidden = isAdmin();
  if (isAdmin()) return;
  const email = h('input', { type: 'email', id: 'admin-email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', id: 'admin-password', autocomplete: 'current-password', required: true });
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  render(
    box,
    h('h2', { id: 'signin-title' }, 'Admin sign-in'),
    h(
      'p',
      {},
      s ? 'You are signed in without the admin role: ' : '',
      'changing fault rules and reading the outbox and DLQs needs an admin. The race and the breakers work for everyone; sagas need any account.',
    ),
    h(
      'form',
      {
        class: 'inline',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await login(email.value.trim(), password.value);
            announce('Signed in');
            onChange();
          } catch (err) {
            status.replaceChildren(errorBox(err, { technical: true }));
          }
        },
      },
      h('label', { for: 'admin-email' }, 'Email'),
      email,
      h('label', { for: 'admin-password' }, 'Password'),
      password,
      h('button', { type: 'submit' }, 'Sign in'),
    ),
    status,
  );
}
