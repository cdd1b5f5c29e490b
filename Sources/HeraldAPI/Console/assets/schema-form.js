// Form fields drawn from JSON Schema, so a plugin dropped into the plugins
// folder gets a create and edit form without a console change.
//
// Each field is {path, element, read()}; read() gives the value to send,
// undefined to leave it out, or throws a FieldError. `showError` puts an
// API error (`{"field":"config.url",...}`) next to the field it names.

import { h, uid } from './dom.js';
import { levels as LEVELS } from './api.js';

const SECRET_SET = '(set)'; // what the API shows for a secret that is set, and keeps when sent back

export class FieldError extends Error {
  constructor(path, message) {
    super(message);
    this.field = path;
  }
}

/** One labelled field: the control, its help and a place for its error. */
export function field({ path, label, required, help, control, extra, option = false }) {
  const id = control.id || (control.id = uid('field'));
  const helpID = uid('help');
  const errorID = uid('error');
  const describedBy = [help ? helpID : null, errorID].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  if (required && control.matches('input, textarea, select')) control.required = true;
  const isGroup = control.matches('fieldset, .group');
  const text = option ? h('code', { class: 'option' }, label) : label; // a plugin's option, named as in the config file
  const labelElement = isGroup
    ? h('span', { class: 'label', id: uid('label') }, text, required ? h('span', { class: 'required' }, ' (required)') : null)
    : h('label', { for: id, class: 'label' }, text, required ? h('span', { class: 'required' }, ' (required)') : null);
  if (isGroup) control.setAttribute('aria-labelledby', labelElement.id);
  return h('div', { class: 'field', 'data-field': path },
    labelElement, extra, control,
    help ? h('p', { class: 'help', id: helpID }, help) : null,
    h('p', { class: 'field-error', id: errorID, hidden: true }));
}

/** Checkboxes for a set of choices. */
export function checkboxes(name, choices, chosen) {
  return h('div', { class: 'group choices', role: 'group' }, choices.map((choice) => {
    const id = uid(name);
    return h('span', { class: 'choice' },
      h('input', { type: 'checkbox', id, name, value: choice, checked: chosen.includes(choice) }),
      h('label', { for: id }, choice));
  }));
}

export function checked(group) {
  return [...group.querySelectorAll('input[type=checkbox]:checked')].map((box) => box.value);
}

/**
 * The fields of an object schema. `values` is the current object (an edit)
 * or {} (a create). Returns {element, fields}.
 */
export function schemaFields(schema, values, prefix) {
  const required = new Set(schema.required ?? []);
  const fields = [];
  const names = Object.keys(schema.properties ?? {})
    // required fields first, then as the API lists them (alphabetical)
    .sort((a, b) => Number(required.has(b)) - Number(required.has(a)));
  const elements = names.map((name) => {
    const built = build(`${prefix}.${name}`, name, schema.properties[name] ?? {}, values?.[name], required.has(name));
    fields.push(...built.fields);
    return built.element;
  });
  return { element: h('div', { class: 'schema-fields' }, elements), fields };
}

/** Reads every field into an object; throws the first FieldError. */
export function readFields(fields, prefix) {
  const result = {};
  for (const item of fields) {
    const value = item.read();
    if (value === undefined) continue;
    const keys = item.path.slice(prefix.length + 1).split('.');
    let target = result;
    for (const key of keys.slice(0, -1)) target = target[key] ??= {};
    target[keys.at(-1)] = value;
  }
  return result;
}

function build(path, name, spec, value, required) {
  const types = [spec.type ?? []].flat();
  const label = name; // the option's name as the config file writes it
  const help = [spec.description, 'default' in spec ? `Default: ${JSON.stringify(spec.default)}.` : null]
    .filter(Boolean).join(' ');
  const present = value !== undefined;
  const one = (control, read, extra) => ({
    element: field({ path, label, required, help, control, extra, option: true }),
    fields: [{ path, element: control, read }],
  });

  if (types.length === 1 && types[0] === 'object' && spec.properties) {
    const nested = schemaFields(spec, value ?? {}, path);
    return {
      element: h('fieldset', { class: 'nested', 'data-field': path }, h('legend', {}, label),
        spec.description ? h('p', { class: 'help' }, spec.description) : null, nested.element),
      fields: nested.fields,
    };
  }
  if (types.length === 1 && types[0] === 'string' && Array.isArray(spec.enum)) {
    const select = h('select', { name: path },
      required ? null : h('option', { value: '' }, 'default' in spec ? `(default: ${spec.default})` : '(not set)'),
      spec.enum.map((choice) => h('option', { value: String(choice) }, String(choice))));
    select.value = value ?? (required ? spec.default ?? spec.enum[0] : '');
    return one(select, () => (select.value === '' ? undefined : select.value));
  }
  if (types.length === 1 && types[0] === 'string') {
    if (spec['x-herald-secret']) return secret(path, label, required, help, value);
    const template = spec['x-herald-template'] === true;
    const control = template
      ? h('textarea', { name: path, rows: 2, class: 'template', spellcheck: 'false', value: value ?? '' })
      : h('input', { type: 'text', name: path, value: value ?? '', placeholder: 'default' in spec ? String(spec.default) : null });
    const badge = template ? h('span', { class: 'badge', title: 'A Stencil template: {{ name }}, {{ level }}, {{ labels.service }}…' }, 'template') : null;
    return one(control, () => (control.value === '' && !present ? undefined : control.value), badge);
  }
  if (types.length === 1 && (types[0] === 'integer' || types[0] === 'number')) {
    const control = h('input', {
      type: 'number', name: path, inputmode: types[0] === 'integer' ? 'numeric' : 'decimal',
      step: types[0] === 'integer' ? '1' : 'any', min: spec.minimum, max: spec.maximum,
      placeholder: 'default' in spec ? String(spec.default) : null, value: value ?? '',
    });
    return one(control, () => {
      if (control.validity.badInput) throw new FieldError(path, `${label} is not a number`);
      return control.value === '' ? undefined : Number(control.value);
    });
  }
  if (types.length === 1 && types[0] === 'boolean') {
    const fallback = spec.default === true;
    const control = h('input', { type: 'checkbox', name: path, checked: value ?? fallback });
    return one(control, () => (!present && control.checked === fallback ? undefined : control.checked));
  }
  if (types.length === 1 && types[0] === 'array' && [spec.items?.type].flat().every((type) => type === 'string')) {
    const items = spec.items ?? {};
    const choices = Array.isArray(items.enum) ? items.enum : spec['x-herald-levels'] === true ? LEVELS : null;
    if (choices) {
      // A level may be written in any case ("critical"): check its box all the same.
      const chosen = (value ?? spec.default ?? []).map((item) => choices.find((choice) => choice.toLowerCase() === String(item).toLowerCase()) ?? item);
      const group = checkboxes(path, choices, chosen);
      return one(group, () => {
        const chosen = checked(group);
        return !present && JSON.stringify(chosen) === JSON.stringify(spec.default ?? []) ? undefined : chosen;
      });
    }
    const control = h('textarea', { name: path, rows: 3, value: (value ?? []).join('\n'), placeholder: 'one per line' });
    return one(control, () => {
      const lines = control.value.split('\n').map((line) => line.trim()).filter(Boolean);
      return lines.length === 0 && !present ? undefined : lines;
    });
  }
  if (types.length === 1 && types[0] === 'object' && !spec.properties
      && [spec.additionalProperties?.type].flat().every((type) => type === 'string')) {
    return pairs(path, label, required, help, value ?? {}, present);
  }
  if (types.length > 1 && types.includes('string') && types.every((type) => ['string', 'integer', 'number', 'boolean'].includes(type))) {
    // A choice of scalar types (syslog's facility: "local0" or 16): text, read as the type it looks like.
    const control = h('input', { type: 'text', name: path, value: value === undefined ? '' : String(value),
      placeholder: 'default' in spec ? String(spec.default) : null });
    return one(control, () => {
      const text = control.value.trim();
      if (text === '') return undefined;
      if (types.includes('integer') && /^-?\d+$/.test(text)) return Number(text);
      if (types.includes('number') && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
      if (types.includes('boolean') && (text === 'true' || text === 'false')) return text === 'true';
      return control.value;
    });
  }
  // Anything else (nested lists, a choice that includes objects): JSON, checked by the API.
  const control = h('textarea', {
    name: path, rows: 3, class: 'json', spellcheck: 'false',
    value: present ? JSON.stringify(value, null, 1) : '', placeholder: 'JSON',
  });
  return one(control, () => {
    if (control.value.trim() === '') return undefined;
    try { return JSON.parse(control.value); } catch { throw new FieldError(path, `${label} is not valid JSON`); }
  }, h('span', { class: 'badge' }, 'JSON'));
}

/** A write-only password input: the API never shows the value, only whether it is set. */
function secret(path, label, required, help, value) {
  const isSet = value === SECRET_SET;
  const control = h('input', {
    type: 'password', name: path, autocomplete: 'new-password',
    placeholder: isSet ? 'set: leave empty to keep it' : 'not set',
  });
  const state = h('span', { class: `badge ${isSet ? 'set' : 'unset'}` }, isSet ? 'secret: set' : 'secret: not set');
  return {
    element: field({ path, label, required: required && !isSet, help, control, extra: state, option: true }),
    fields: [{ path, element: control, read: () => (control.value !== '' ? control.value : isSet ? SECRET_SET : undefined) }],
  };
}

/** An object of strings (headers, properties) as name/value rows. */
function pairs(path, label, required, help, value, present) {
  const rows = h('div', { class: 'pairs' });
  const addRow = (key = '', text = '') => {
    const row = h('div', { class: 'pair' },
      h('input', { type: 'text', class: 'pair-key', 'aria-label': `${label} name`, value: key, placeholder: 'name' }),
      h('input', { type: 'text', class: 'pair-value', 'aria-label': `${label} value`, value: text, placeholder: 'value' }),
      h('button', { type: 'button', class: 'secondary', 'aria-label': `Remove this ${label} entry`, onclick: () => row.remove() }, 'Remove'));
    rows.append(row);
    return row;
  };
  for (const [key, text] of Object.entries(value)) addRow(key, String(text));
  const group = h('div', { class: 'group', role: 'group' }, rows,
    h('button', { type: 'button', class: 'secondary add', onclick: () => addRow().querySelector('input').focus() }, `Add ${label} entry`));
  return {
    element: field({ path, label, required, help, control: group, option: true }),
    fields: [{
      path, element: group,
      read: () => {
        const result = {};
        for (const row of rows.children) {
          const key = row.querySelector('.pair-key').value.trim();
          if (key) result[key] = row.querySelector('.pair-value').value;
        }
        return Object.keys(result).length === 0 && !present ? undefined : result;
      },
    }],
  };
}

/** Clears the errors a form shows. */
export function clearErrors(form) {
  for (const error of form.querySelectorAll('.field-error')) { error.hidden = true; error.textContent = ''; }
  for (const invalid of form.querySelectorAll('[aria-invalid]')) invalid.removeAttribute('aria-invalid');
  form.querySelector('.form-errors')?.replaceChildren();
}

/**
 * Shows an error from the API or a FieldError: next to the field whose path
 * is the longest prefix of `error.field` (`config.to[1]` belongs to
 * `config.to`), and in the summary at the top of the form.
 */
export function showError(form, error) {
  const path = error.field ?? '';
  let best = null;
  for (const candidate of form.querySelectorAll('[data-field]')) {
    const name = candidate.dataset.field;
    if (path === name || path.startsWith(`${name}.`) || path.startsWith(`${name}[`)) {
      if (!best || name.length > best.dataset.field.length) best = candidate;
    }
  }
  const summary = form.querySelector('.form-errors');
  const said = h('p', { class: 'notice error', role: 'alert', tabindex: -1 }, `Not saved: ${error.message}`);
  summary?.replaceChildren(said);
  if (!best) { // no field of the form is named: the summary is where to look
    said.focus();
    return;
  }
  const message = best.querySelector(':scope > .field-error');
  if (message) { message.textContent = error.message; message.hidden = false; }
  const control = best.querySelector('input, textarea, select');
  control?.setAttribute('aria-invalid', 'true');
  control?.focus();
}
