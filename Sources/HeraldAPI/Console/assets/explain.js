// One event's explanation: the policies it matched, and for each endpoint
// whether it was pushed or why not, with the attempts.

import { api, scoped } from './api.js';
import { formatTime, h, notice, table, uid } from './dom.js';
import { attemptTable } from './deliveries.js';

const WHY_NOT = {
  pushed: 'pushed: a delivery was made',
  level_filtered: 'not pushed: the endpoint does not push this level',
  push_cycle: 'not pushed: inside the push cycle of an earlier push',
  push_frequency: 'not pushed: the push frequency was reached',
  recovery_without_firing: 'not pushed: a recovery of an alert the endpoint was never sent',
};

export async function explainPage({ id }) {
  const inputID = uid('event');
  const form = h('form', { class: 'filters', role: 'search' },
    h('label', { for: inputID }, 'Event id'),
    h('input', { id: inputID, name: 'id', type: 'text', value: id ?? '', required: true }),
    h('button', { type: 'submit' }, 'Explain'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/explain/${encodeURIComponent(form.elements.id.value.trim())}`;
  });
  const heading = h('h1', { tabindex: -1 }, id ? `Event ${id}` : 'Explain an event');
  if (!id) return [heading, form];
  let answer;
  try {
    answer = await api('GET', scoped(`/api/v1/events/${encodeURIComponent(id)}`));
  } catch (error) {
    return [heading, form, notice('error', error.message)];
  }
  return [heading, form, answer.events.map((item) => h('section', { class: 'card' },
    h('h2', {}, `${item.event.name} (${item.event.level}, ${item.event.status}) on ${item.event.object_id}`),
    h('p', { class: 'muted' }, 'received ', formatTime(item.received_at)),
    Object.keys(item.event.labels ?? {}).length
      ? h('p', {}, 'Labels: ', Object.entries(item.event.labels).map(([key, value]) => h('code', { class: 'label-pair' }, `${key}="${value}"`)))
      : null,
    item.routed
      ? table('Routes', [
        ['Policy', (route) => route.policy],
        ['Endpoint', (route) => route.endpoint],
        ['Outcome', (route) => h('span', { class: `outcome ${route.outcome}` }, WHY_NOT[route.outcome] ?? route.outcome)],
        // Pushed means a delivery was made; whether it arrived is its status.
        ['Delivery', (route) => (route.delivery
          ? h('a', { href: `#/deliveries?event_id=${encodeURIComponent(item.event.id)}&endpoint=${encodeURIComponent(route.endpoint)}`, class: `status ${route.delivery.status}` }, route.delivery.status)
          : '—')],
        ['Attempts', (route) => (route.attempts.length ? attemptTable(route.attempts) : '—')],
      ], item.routes)
      : notice('info', 'It matched no policy, so no endpoint was pushed.')))];
}
