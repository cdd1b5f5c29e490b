// The console's shell: log in, the navigation, and the router that draws
// a page for each `#/...` address.

import { api, login, logout, restore, session } from './api.js';
import { append, h, notice, uid } from './dom.js';
import { editEndpoint, endpointList, newEndpoint } from './endpoints.js';
import { editPolicy, newPolicy, policyList } from './policies.js';
import { deliveryList } from './deliveries.js';
import { explainPage } from './explain.js';
import { capturesPage } from './captures.js';
import { channelsPage } from './channels.js';

const NAV = [
  ['#/endpoints', 'Endpoints'], ['#/policies', 'Policies'], ['#/deliveries', 'Deliveries'],
  ['#/deliveries?status=dead', 'Dead letters'], ['#/explain', 'Explain'], ['#/captures', 'Captures'], ['#/channels', 'Channels'],
];

// [pattern of the path, page]; the page gets the named groups and the query.
const ROUTES = [
  [/^\/endpoints(?:\/(?<channel>[^/]+))?$/, endpointList],
  [/^\/endpoints\/(?<channel>[^/]+)\/new$/, newEndpoint],
  [/^\/endpoint\/(?<name>[^/]+)\/edit$/, editEndpoint],
  [/^\/policies$/, policyList],
  [/^\/policies\/new$/, newPolicy],
  [/^\/policy\/(?<name>[^/]+)\/edit$/, editPolicy],
  [/^\/deliveries$/, deliveryList],
  [/^\/explain(?:\/(?<id>.+))?$/, explainPage],
  [/^\/captures(?:\/(?<name>[^/]+))?$/, capturesPage],
  [/^\/channels$/, channelsPage],
];

const main = document.getElementById('main');
const header = document.getElementById('header');

async function render() {
  const hash = location.hash.replace(/^#/, '') || '/endpoints';
  const [path, search = ''] = hash.split('?');
  if (!session.token || path === '/login') return showLogin(); // #/login: log in anew, with another token
  if (!session.caller) {
    try { await restore(); } catch { logout(); return showLogin(); }
  }
  drawHeader(hash);
  const route = ROUTES.map(([pattern, page]) => [path.match(pattern), page]).find(([match]) => match);
  let content;
  if (!route) {
    content = [h('h1', { tabindex: -1 }, 'Not found'), notice('error', `No page at ${hash}.`)];
  } else {
    const [match, page] = route;
    const parameters = Object.fromEntries(Object.entries(match.groups ?? {})
      .filter(([, value]) => value !== undefined).map(([key, value]) => [key, decoded(value)]));
    try {
      content = await page({ ...parameters, query: new URLSearchParams(search) });
    } catch (error) {
      if (error.status === 401) { logout(); return showLogin('Your token is no longer accepted: log in again.'); }
      content = [h('h1', { tabindex: -1 }, 'Something went wrong'), notice('error', error.message)];
    }
  }
  main.replaceChildren();
  append(main, content);
  const heading = main.querySelector('h1');
  document.title = `${heading?.textContent ?? 'Herald'} · Herald`;
  heading?.focus();
}

/** A path segment's text; a malformed escape (`%E0`) is taken as written. */
function decoded(text) {
  try { return decodeURIComponent(text); } catch { return text; }
}

function drawHeader(hash) {
  // The longest entry the address starts with: "Dead letters" over "Deliveries".
  const address = `#${hash}`;
  const current = NAV.map(([href]) => href)
    .filter((href) => address === href || address.startsWith(`${href}/`) || address.startsWith(`${href}?`))
    .sort((a, b) => b.length - a.length)[0];
  const teamID = uid('team');
  const who = session.caller.admin
    ? h('span', { class: 'who' }, h('label', { for: teamID }, 'Admin, team '),
      h('select', {
        id: teamID, value: session.team ?? '',
        onchange: (event) => { session.team = event.target.value; render(); },
      }, session.teams.map((team) => h('option', { value: team }, team))))
    : h('span', { class: 'who' }, `Team ${session.caller.team}`);
  header.replaceChildren(
    h('a', { class: 'brand', href: '#/endpoints' }, 'Herald'),
    h('nav', { 'aria-label': 'Main' }, h('ul', {}, NAV.map(([href, label]) =>
      h('li', {}, h('a', { href, 'aria-current': href === current ? 'page' : null }, label))))),
    h('div', { class: 'session' }, who,
      h('button', { type: 'button', class: 'secondary', onclick: () => { logout(); location.hash = '#/login'; showLogin(); } }, 'Log out')));
}

function showLogin(message) {
  header.replaceChildren(h('span', { class: 'brand' }, 'Herald'));
  const tokenID = uid('token');
  const errorID = uid('error');
  const input = h('input', { id: tokenID, type: 'password', name: 'token', autocomplete: 'current-password', required: true, 'aria-describedby': errorID });
  const error = h('p', { id: errorID, class: 'field-error', hidden: !message }, message ?? '');
  const form = h('form', { class: 'login' },
    h('h1', { tabindex: -1 }, 'Log in to Herald'),
    h('p', {}, 'With your team\'s API token, or an admin token.'),
    h('div', { class: 'field', 'data-field': 'Authorization' }, h('label', { for: tokenID, class: 'label' }, 'Token'), input, error),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Log in')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await login(input.value.trim());
      location.hash = '#/endpoints';
      render();
    } catch (failure) {
      error.textContent = failure.status === 401 ? 'This token is not one Herald knows.' : failure.message;
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  });
  main.replaceChildren(form);
  document.title = 'Log in · Herald';
  input.focus();
}

// A skip link that moves the focus: "#main" would be read as a page address.
document.body.prepend(h('a', { class: 'skip', href: '#', onclick: (event) => { event.preventDefault(); main.focus(); } }, 'Skip to content'));
window.addEventListener('hashchange', render);
// A page that changed what it shows (a replay) asks to be drawn anew, with a message under its heading.
window.addEventListener('herald:redraw', async (event) => {
  await render();
  main.querySelector('h1')?.after(event.detail);
});
render();
