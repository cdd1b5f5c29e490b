// PCAP captures: each pcap endpoint's files, to download.

import { api, download, scoped } from './api.js';
import { formatTime, h, notice, table } from './dom.js';

export async function capturesPage({ name }) {
  const endpoints = (await api('GET', scoped('/api/v1/endpoints')))
    .filter((endpoint) => endpoint.channel === 'pcap' && (!name || endpoint.name === name));
  const sections = await Promise.all(endpoints.map(async (endpoint) => {
    const path = `/api/v1/endpoints/${encodeURIComponent(endpoint.name)}/captures`;
    const files = await api('GET', path);
    return h('section', { class: 'card' }, h('h2', {}, endpoint.name),
      files.length === 0 ? notice('info', 'No capture yet: one starts when an alert of an enabling level is pushed.')
        : table(`Captures of ${endpoint.name}`, [
          ['File', (file) => file.name],
          ['Size', (file) => (file.bytes < 1024 ? `${file.bytes} B` : `${(file.bytes / 1024).toFixed(1)} KiB`)],
          ['Last written', (file) => formatTime(file.modified)],
          ['', (file) => h('button', {
            type: 'button', class: 'secondary', 'aria-label': `Download ${file.name}`,
            onclick: () => download(`${path}/${encodeURIComponent(file.name)}`, file.name),
          }, 'Download')],
        ], files));
  }));
  return [
    h('h1', { tabindex: -1 }, name ? `Captures of ${name}` : 'PCAP captures'),
    name ? h('p', {}, h('a', { href: '#/captures' }, 'Every pcap endpoint')) : null,
    sections.length ? sections : notice('info', 'No PCAP endpoint.'),
  ];
}
