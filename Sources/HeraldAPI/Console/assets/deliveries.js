// Deliveries and dead letters: filter by endpoint and status, each one's
// attempts, replay one or all.

import { api, scoped } from './api.js';
import { formatTime, h, notice, table, uid } from './dom.js';

const STATUSES = ['pending', 'delivered', 'dead', 'cancelled'];
const PAGE = 50;

export async function deliveryList({ query }) {
  const filter = { endpoint: query.get('endpoint') ?? '', status: query.get('status') ?? '', event_id: query.get('event_id') ?? '' };
  const filtered = () => new URLSearchParams(Object.entries(filter).filter(([, value]) => value)); // the filters set
  const parameters = filtered();
  parameters.set('limit', String(PAGE));
  if (query.get('before')) parameters.set('before', query.get('before'));
  const [deliveries, endpoints] = await Promise.all([
    api('GET', scoped(`/api/v1/deliveries?${parameters}`)),
    api('GET', scoped('/api/v1/endpoints')),
  ]);
  const endpointID = uid('filter');
  const statusID = uid('filter');
  const eventID = uid('filter');
  const filters = h('form', { class: 'filters', role: 'search' },
    h('label', { for: endpointID }, 'Endpoint'),
    h('select', { id: endpointID, name: 'endpoint', value: filter.endpoint },
      h('option', { value: '' }, 'all'), endpoints.map((endpoint) => h('option', { value: endpoint.name }, endpoint.name))),
    h('label', { for: statusID }, 'Status'),
    h('select', { id: statusID, name: 'status', value: filter.status },
      h('option', { value: '' }, 'all'), STATUSES.map((status) => h('option', { value: status }, status === 'dead' ? 'dead (dead letters)' : status))),
    h('label', { for: eventID }, 'Event id'),
    h('input', { id: eventID, name: 'event_id', type: 'text', value: filter.event_id }),
    h('button', { type: 'submit' }, 'Filter'));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams([...new FormData(filters)].filter(([, value]) => value));
    location.hash = `#/deliveries?${chosen}`;
  });
  const replayed = h('div', { 'aria-live': 'polite' });
  const replayAll = async () => {
    try {
      const answer = await api('POST', scoped('/api/v1/deliveries/replay'), {});
      const message = answer.running ? 'Replaying the dead letters in the background.'
        : `Replayed ${answer.replayed} dead ${answer.replayed === 1 ? 'letter' : 'letters'}.`;
      // The list is drawn anew (replayed letters are pending again), the message above it.
      window.dispatchEvent(new CustomEvent('herald:redraw', { detail: notice('ok', message) }));
    } catch (error) {
      replayed.replaceChildren(notice('error', `Not replayed: ${error.message}`));
    }
  };
  const columns = [
    ['Id', (delivery) => String(delivery.id)],
    ['Created', (delivery) => formatTime(delivery.created_at)],
    ['Event', (delivery) => h('a', { href: `#/explain/${encodeURIComponent(delivery.event_id)}` }, delivery.event_id)],
    ['Endpoint', (delivery) => delivery.endpoint],
    ['Policy', (delivery) => delivery.policy],
    ['Level', (delivery) => delivery.level],
    ['Status', (delivery) => h('span', { class: `status ${delivery.status}` }, delivery.status)],
    // Each try is listed; the delivery's own count is its retry count, which tries while the
    // endpoint was down and replays do not add to, so the button claims no number.
    ['Attempts', (delivery) => h('button', {
      type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-label': `Attempts of delivery ${delivery.id}`,
      onclick: (event) => toggleAttempts(event.target, delivery),
    }, 'Show')],
    ['Last error', (delivery) => delivery.last_error ?? ''],
    ['', (delivery) => (delivery.status === 'dead'
      ? h('button', { type: 'button', onclick: (event) => replayOne(event.target, delivery) }, 'Replay') : '')],
  ];
  const next = filtered();
  if (deliveries.length === PAGE) next.set('before', String(deliveries.at(-1).id));
  const older = deliveries.length === PAGE ? h('a', { href: `#/deliveries?${next}` }, 'Older deliveries') : null;
  return [
    h('h1', { tabindex: -1 }, filter.status === 'dead' ? 'Dead letters' : 'Deliveries'),
    filters,
    h('div', { class: 'toolbar' }, h('span'), h('button', { type: 'button', onclick: replayAll }, 'Replay every dead letter')),
    replayed,
    deliveries.length === 0 ? notice('info', 'No delivery matches.')
      : table('Deliveries', columns, deliveries, (delivery) => ({ 'data-delivery': delivery.id })),
    older,
  ];
}

async function toggleAttempts(button, delivery) {
  const row = button.closest('tr');
  if (button.getAttribute('aria-expanded') === 'true') {
    row.nextElementSibling?.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  let content;
  try {
    content = attemptTable(await api('GET', `/api/v1/deliveries/${delivery.id}/attempts`));
  } catch (error) {
    content = notice('error', error.message);
  }
  row.after(h('tr', { class: 'detail' }, h('td', { colspan: row.children.length }, content)));
  button.setAttribute('aria-expanded', 'true');
}

export function attemptTable(attempts) {
  if (attempts.length === 0) return notice('info', 'Not attempted yet.');
  return table('Attempts', [
    ['#', (attempt) => String(attempt.attempt)],
    ['Started', (attempt) => formatTime(attempt.started_at)],
    ['Took', (attempt) => `${Math.round(attempt.duration_seconds * 1000)} ms`],
    ['Outcome', (attempt) => h('span', { class: `status ${attempt.outcome}` }, attempt.outcome)],
    ['Reason', (attempt) => attempt.reason ?? ''],
  ], attempts);
}

async function replayOne(button, delivery) {
  button.disabled = true;
  try {
    await api('POST', scoped('/api/v1/deliveries/replay'), { ids: [delivery.id] });
    button.closest('tr').querySelector('.status').textContent = 'pending';
    button.replaceWith(notice('ok', 'Replayed.'));
  } catch (error) {
    button.replaceWith(notice('error', `Not replayed: ${error.message}`));
  }
}
