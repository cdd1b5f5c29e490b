// The loaded channel plugins.

import { loadChannels } from './api.js';
import { h, table } from './dom.js';

export async function channelsPage() {
  const channels = await loadChannels();
  return [
    h('h1', { tabindex: -1 }, 'Channels'),
    h('p', {}, 'The channel plugins loaded from the plugins folders. A plugin added there and loaded by a reload gets its create form here.'),
    table('Channels', [
      ['Channel', (plugin) => h('a', { href: `#/endpoints/${plugin.name}` }, plugin.name)],
      ['Version', (plugin) => plugin.version],
      ['Description', (plugin) => plugin.description],
      ['Runs', (plugin) => (plugin.isolation === 'process' ? 'in a worker process' : 'in the daemon')],
    ], channels, (plugin) => ({ 'data-channel': plugin.name })),
  ];
}
