// Alert policies: which alerts (matchers) go to which endpoints.

import { api, scoped, session, withTeam } from './api.js';
import { confirmDelete, h, notice, table } from './dom.js';
import { checkboxes, checked, clearErrors, field, showError } from './schema-form.js';

export async function policyList({ query }) {
  const endpoint = query.get('endpoint');
  let policies = await api('GET', scoped('/api/v1/policies'));
  if (endpoint) policies = policies.filter((policy) => policy.endpoints.includes(endpoint));
  const columns = [
    ['Name', (policy) => h('span', { class: 'name' }, policy.name)],
    ['Matchers', (policy) => (policy.matchers.length === 0 ? h('span', { class: 'muted' }, 'every alert')
      : h('ul', { class: 'plain' }, policy.matchers.map((matcher) => h('li', {}, h('code', {}, matcher)))))],
    ['Endpoints', (policy) => h('ul', { class: 'plain' }, policy.endpoints.map((name) =>
      h('li', {}, h('a', { href: `#/endpoint/${encodeURIComponent(name)}/edit` }, name))))],
    ['Actions', (policy) => actions(policy)],
  ];
  return [
    h('h1', { tabindex: -1 }, endpoint ? `Policies using ${endpoint}` : 'Alert policies'),
    h('div', { class: 'toolbar' },
      endpoint ? h('a', { href: '#/policies' }, 'Show every policy') : h('span'),
      h('a', { class: 'button', href: '#/policies/new' }, 'New policy')),
    policies.length === 0 ? notice('info', 'No policy yet.')
      : table('Alert policies', columns, policies, (policy) => ({ 'data-policy': policy.name })),
  ];
}

function actions(policy) {
  const name = policy.name;
  const remove = (event) => confirmDelete(event.target.closest('tr'), 'policy', name,
    () => api('DELETE', `/api/v1/policies/${encodeURIComponent(name)}`));
  if (policy.provisioned) return h('span', { class: 'muted', title: 'from the config file: change it there' }, 'config file');
  return h('span', { class: 'actions' },
    h('a', { href: `#/policy/${encodeURIComponent(name)}/edit`, class: 'button secondary', 'aria-label': `Edit ${name}` }, 'Edit'),
    h('button', { type: 'button', class: 'danger', onclick: remove, 'aria-label': `Delete ${name}` }, 'Delete'));
}

export async function newPolicy() { return policyForm(null); }

export async function editPolicy({ name }) {
  return policyForm(await api('GET', `/api/v1/policies/${encodeURIComponent(name)}`));
}

async function policyForm(policy) {
  const editing = policy !== null;
  const team = policy?.team ?? session.team; // an admin edits an item in its own team, whichever is picked
  const endpoints = (await api('GET', scoped('/api/v1/endpoints', team))).map((endpoint) => endpoint.name);
  const name = h('input', { type: 'text', name: 'name', value: policy?.name ?? '', readonly: editing, autocomplete: 'off' });
  const matchers = h('textarea', { name: 'matchers', rows: 4, spellcheck: 'false', value: (policy?.matchers ?? []).join('\n'),
    placeholder: 'severity="critical"\nservice=~"api|web"' });
  const targets = checkboxes('endpoints', endpoints, policy?.endpoints ?? []);
  const form = h('form', { class: 'edit', novalidate: true },
    h('div', { class: 'form-errors' }),
    field({ path: 'name', label: 'Name', required: true, control: name }),
    session.caller?.admin ? field({ path: 'team', label: 'Team', control: h('input', { type: 'text', value: team, readonly: true }) }) : null,
    field({ path: 'matchers', label: 'Matchers', control: matchers,
      help: 'One per line, as in Alertmanager: label="value", !=, =~"regex", !~. An alert must match all; none matches every alert.' }),
    field({ path: 'endpoints', label: 'Endpoints', control: endpoints.length ? targets : notice('info', 'Make an endpoint first.') }),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit' }, editing ? 'Save' : 'Create policy'),
      h('a', { class: 'button secondary', href: '#/policies' }, 'Cancel')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = withTeam({
      name: name.value.trim(),
      matchers: matchers.value.split('\n').map((line) => line.trim()).filter(Boolean),
      endpoints: checked(targets),
    }, team);
    try {
      if (editing) await api('PUT', `/api/v1/policies/${encodeURIComponent(policy.name)}`, body);
      else await api('POST', '/api/v1/policies', body);
      location.hash = '#/policies';
    } catch (error) {
      // matchers[1] is the box's second line.
      const line = /^matchers\[(\d+)\]/.exec(error.field ?? '');
      if (line) error.message = `line ${Number(line[1]) + 1}: ${error.message}`;
      showError(form, error);
    }
  });
  return [h('h1', { tabindex: -1 }, editing ? `Edit policy ${policy.name}` : 'New policy'), form];
}
