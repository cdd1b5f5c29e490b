// Builds the page from data with DOM calls, never innerHTML: an alert's
// text or a plugin's description is shown as text, never read as markup.

/** h('a', {href: '#/x', class: 'button'}, 'text', child...) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  let value;
  for (const [key, item] of Object.entries(attributes ?? {})) {
    if (item === undefined || item === null || item === false) continue;
    if (key === 'value') value = item; // after the children: a select needs its options first
    else if (key.startsWith('on') && typeof item === 'function') element.addEventListener(key.slice(2), item);
    else if (key === 'class') element.className = item;
    else element.setAttribute(key, item === true ? '' : String(item));
  }
  append(element, children);
  if (value !== undefined) element.value = value;
  return element;
}

export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

let nextID = 0;
/** A unique element id, for labels and aria-describedby. */
export function uid(prefix) { return `${prefix}-${++nextID}`; }

/** A table whose rows come from `items`; `columns` are [heading, cell(item)]. */
export function table(caption, columns, items, rowAttributes = () => ({})) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, columns.map(([heading]) => h('th', { scope: 'col' }, heading)))),
      h('tbody', {}, items.map((item) => h('tr', rowAttributes(item),
        // data-label: the heading shown beside each cell when a narrow screen stacks the table
        columns.map(([heading, cell]) => h('td', { 'data-label': heading }, cell(item))))))));
}

/** A message for the user: kind is 'error', 'ok' or 'info'. */
export function notice(kind, ...text) {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...text);
}

/** Shows content in a row under a table row (replacing an earlier one): an action's outcome. */
export function rowNote(row, name, ...content) {
  clearNote(row);
  const note = h('tr', { class: 'result', 'data-result-for': name }, h('td', { colspan: row.children.length }, ...content));
  row.after(note);
  return note;
}

export function clearNote(row) {
  if (row.nextElementSibling?.classList.contains('result')) row.nextElementSibling.remove();
}

/**
 * Asks under the row before deleting `name`; `remove(force)` calls the API.
 * A refusal shows the API's message and, with `forceLabel`, a button that
 * forces the delete when the refusal was a conflict.
 */
export function confirmDelete(row, what, name, remove, forceLabel) {
  const attempt = async (force) => {
    try {
      await remove(force);
      clearNote(row);
      const done = notice('ok', `Deleted ${name}.`);
      done.tabIndex = -1; // the focus stays where the row was, not back at the page's top
      row.replaceWith(h('tr', { class: 'result' }, h('td', { colspan: row.children.length }, done)));
      done.focus();
    } catch (error) {
      rowNote(row, name, notice('error', `Not deleted: ${error.message}`),
        forceLabel && error.status === 409 && !force
          ? h('button', { type: 'button', class: 'danger', onclick: () => attempt(true) }, forceLabel) : null);
    }
  };
  const note = rowNote(row, name, h('span', { class: 'confirm' }, `Delete ${what} ${name}? `,
    h('button', { type: 'button', class: 'danger', onclick: () => attempt(false) }, 'Delete'),
    h('button', { type: 'button', class: 'secondary', onclick: () => note.remove() }, 'Cancel')));
  note.querySelector('button').focus();
}

/** An RFC 3339 time as "2026-11-30 18:43:08Z" (UTC, whole seconds). */
export function formatTime(text) {
  return text ? h('time', { datetime: text }, text.replace('T', ' ').replace(/\.\d+Z$/, 'Z')) : '';
}

export function formatSeconds(seconds) {
  if (!seconds) return '—';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]]) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
