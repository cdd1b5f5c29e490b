// Push endpoints: a list per channel, create and edit forms (the channel's
// part drawn from its plugin's schema), test-send and delete.

import { api, levels, loadChannels, scoped, session, withTeam } from './api.js';
import { confirmDelete, formatSeconds, h, notice, rowNote, table } from './dom.js';
import { FieldError, checkboxes, checked, clearErrors, field, readFields, schemaFields, showError } from './schema-form.js';

/** What the API shows of an endpoint but does not take back in an edit. */
const READ_ONLY = ['policies', 'provisioned', 'state', 'down', 'suspended_since', 'reason'];
const DEFAULT_LEVELS = levels.filter((level) => level !== 'Info');

export async function endpointList({ channel }) {
  const channels = await loadChannels();
  const current = channels.find((item) => item.name === channel) ?? channels.find((item) => item.name === 'http') ?? channels[0];
  if (!current) return [h('h1', { tabindex: -1 }, 'Endpoints'), notice('info', 'No channel plugin is loaded.')];
  const endpoints = (await api('GET', scoped('/api/v1/endpoints'))).filter((item) => item.channel === current.name);
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Channels' }, channels.map((item) =>
    h('a', { href: `#/endpoints/${item.name}`, 'aria-current': item.name === current.name ? 'page' : null }, title(item.name))));
  const columns = [
    ['Name', (item) => h('span', { class: 'name' }, item.name)],
    ['State', (item) => h('span', { class: `state ${item.state}`, title: item.reason ?? '' }, item.state)],
    ['Levels', (item) => item.levels.join(', ')],
    ['Push cycle', (item) => formatSeconds(item.push_cycle)],
    ['Push frequency', (item) => (item.push_frequency ? String(item.push_frequency) : 'no limit')],
    ['Policies', (item) => h('a', {
      href: `#/policies?endpoint=${encodeURIComponent(item.name)}`, class: 'count',
      'aria-label': `${item.policies} ${item.policies === 1 ? 'policy uses' : 'policies use'} ${item.name}`,
    }, String(item.policies))],
    ['Actions', (item) => actions(item)],
  ];
  return [
    h('h1', { tabindex: -1 }, 'Push endpoints'),
    tabs,
    h('div', { class: 'toolbar' },
      h('h2', {}, `${title(current.name)} endpoints`),
      h('a', { class: 'button', href: `#/endpoints/${current.name}/new` }, `New ${title(current.name)} endpoint`)),
    endpoints.length === 0
      ? notice('info', `No ${title(current.name)} endpoint yet.`)
      : table(`${title(current.name)} endpoints`, columns, endpoints, (item) => ({ 'data-endpoint': item.name })),
  ];
}

/** Edit, Test, Delete (and Captures for pcap) for one row; outcomes show in a row under it. */
function actions(endpoint) {
  const name = endpoint.name;
  const path = `/api/v1/endpoints/${encodeURIComponent(name)}`;
  const test = async (event) => {
    const row = event.target.closest('tr');
    event.target.disabled = true;
    rowNote(row, name, notice('info', `Sending a test alert through ${name}…`));
    try {
      const answer = await api('POST', `${path}/test`);
      const took = `${Math.round(answer.duration_seconds * 1000)} ms`;
      // retry: a delivery would be tried again; fail: it would be a dead letter at once.
      const failed = answer.outcome === 'retry' ? 'not delivered (a delivery would be retried)' : 'not delivered (refused for good)';
      rowNote(row, name, answer.outcome === 'ok'
        ? notice('ok', `Test of ${name}: delivered (${took}).`)
        : notice('error', `Test of ${name}: ${failed} after ${took}: ${answer.reason ?? ''}`));
    } catch (error) {
      rowNote(row, name, notice('error', `Test of ${name} not sent: ${error.message}`));
    } finally {
      event.target.disabled = false;
    }
  };
  const remove = (event) => confirmDelete(event.target.closest('tr'), 'endpoint', name, async (force) => {
    try {
      await api('DELETE', `${path}${force ? '?force=true' : ''}`);
    } catch (error) {
      // The API says how to force it; here that is the button under the message.
      error.message = error.message.replace(/;\s*\?force=true.*$/, '');
      throw error;
    }
  }, 'Delete and remove it from those policies');
  const fromFile = endpoint.provisioned ? 'from the config file: change it there' : null;
  return h('span', { class: 'actions' },
    endpoint.provisioned
      ? h('span', { class: 'muted', title: fromFile }, 'config file')
      : h('a', { href: `#/endpoint/${encodeURIComponent(name)}/edit`, class: 'button secondary', 'aria-label': `Edit ${name}` }, 'Edit'),
    h('button', { type: 'button', class: 'secondary', onclick: test, 'aria-label': `Test ${name}` }, 'Test'),
    endpoint.channel === 'pcap' ? h('a', { href: `#/captures/${encodeURIComponent(name)}`, class: 'button secondary' }, 'Captures') : null,
    h('button', { type: 'button', class: 'danger', onclick: remove, disabled: endpoint.provisioned, 'aria-label': `Delete ${name}` }, 'Delete'));
}

export async function newEndpoint({ channel }) {
  const plugin = (await loadChannels()).find((item) => item.name === channel);
  if (!plugin) return [h('h1', { tabindex: -1 }, 'New endpoint'), notice('error', `No channel plugin named ${channel} is loaded.`)];
  return endpointForm(plugin, null);
}

export async function editEndpoint({ name }) {
  const endpoint = await api('GET', `/api/v1/endpoints/${encodeURIComponent(name)}`);
  const plugin = (await loadChannels()).find((item) => item.name === endpoint.channel);
  if (!plugin) return [h('h1', { tabindex: -1 }, `Edit ${name}`), notice('error', `The ${endpoint.channel} plugin is not loaded.`)];
  return endpointForm(plugin, endpoint);
}

function endpointForm(plugin, endpoint) {
  const editing = endpoint !== null;
  const team = endpoint?.team ?? session.team; // an admin edits an item in its own team, whichever is picked
  const name = h('input', { type: 'text', name: 'name', value: endpoint?.name ?? '', readonly: editing, autocomplete: 'off' });
  const levelBoxes = checkboxes('levels', levels, endpoint?.levels ?? DEFAULT_LEVELS);
  const cycle = h('input', { type: 'text', name: 'push_cycle', value: endpoint ? formatSeconds(endpoint.push_cycle).replace('—', '0') : '0', inputmode: 'text' });
  const frequency = h('input', { type: 'number', name: 'push_frequency', min: 0, step: 1, value: endpoint?.push_frequency ?? 0 });
  const settings = schemaFields(plugin.schema, endpoint?.config ?? {}, 'config');
  const form = h('form', { class: 'edit', novalidate: true },
    h('div', { class: 'form-errors' }),
    h('fieldset', {}, h('legend', {}, 'Endpoint'),
      field({ path: 'name', label: 'Name', required: true, control: name, help: editing ? 'An endpoint keeps its name; for another name, make a new one.' : 'Letters, digits, - _ and .; up to 64.' }),
      session.caller?.admin ? field({ path: 'team', label: 'Team', control: h('input', { type: 'text', name: 'team', value: team, readonly: true }) }) : null,
      field({ path: 'levels', label: 'Levels to push', control: levelBoxes, help: 'Recovery pushes the end of an alert that was pushed.' }),
      field({ path: 'push_cycle', label: 'Push cycle', control: cycle, help: 'At most one push per policy and object within this time: seconds, or 30s, 5m, 1h. 0: no limit.' }),
      field({ path: 'push_frequency', label: 'Push frequency', control: frequency, help: 'At most this many pushes per policy and object until the alert recovers. 0: no limit.' })),
    h('fieldset', {}, h('legend', {}, `${title(plugin.name)} settings`),
      h('p', { class: 'help' }, plugin.description), settings.element),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit' }, editing ? 'Save' : 'Create endpoint'),
      h('a', { class: 'button secondary', href: `#/endpoints/${plugin.name}` }, 'Cancel')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    let body;
    try {
      const base = editing ? Object.fromEntries(Object.entries(endpoint).filter(([key]) => !READ_ONLY.includes(key))) : {};
      if (frequency.validity.badInput) throw new FieldError('push_frequency', 'push frequency is not a whole number');
      body = withTeam({
        ...base, name: name.value.trim(), channel: plugin.name, levels: checked(levelBoxes),
        push_cycle: /^\d+(\.\d+)?$/.test(cycle.value.trim()) ? Number(cycle.value.trim()) : cycle.value.trim(),
        push_frequency: frequency.value === '' ? 0 : Number(frequency.value),
        config: readFields(settings.fields, 'config'),
      }, team);
    } catch (error) {
      showError(form, error);
      return;
    }
    try {
      if (editing) await api('PUT', `/api/v1/endpoints/${encodeURIComponent(endpoint.name)}`, body);
      else await api('POST', '/api/v1/endpoints', body);
      location.hash = `#/endpoints/${plugin.name}`;
    } catch (error) {
      showError(form, error);
    }
  });
  return [h('h1', { tabindex: -1 }, editing ? `Edit ${endpoint.name}` : `New ${title(plugin.name)} endpoint`), form];
}

/** The shipped channels as people write them; a third party's as named. */
export function title(channel) {
  return { http: 'HTTP', pcap: 'PCAP', pagerduty: 'PagerDuty', email: 'Email', syslog: 'Syslog', kafka: 'Kafka',
    aliyun: 'Aliyun', tencent: 'Tencent' }[channel] ?? channel;
}
