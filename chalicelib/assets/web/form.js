// A form built at run time from a JSON Schema object in the API's OpenAPI document, so the
// Generate form has every submit option, with its bounds and default, and never drifts from
// what the API accepts.
import { el } from './dom.js';

function resolve(doc, schema) {
  let current = schema;
  while (current && current.$ref) {
    const name = current.$ref.split('/').pop();
    current = doc.components.schemas[name];
  }
  // Optional fields are "anyOf: [<type>, null]": the form edits the non-null branch. Where a
  // field takes either a name or an object (captionStyle: a preset, or a preset and overrides),
  // the form offers the names; the object form is for API callers.
  if (current && current.anyOf) {
    const branches = current.anyOf.filter((s) => s.type !== 'null');
    const simple = branches.find((s) => s.enum || ['string', 'integer', 'number', 'boolean'].includes(s.type));
    return { ...resolve(doc, simple || branches[0]), default: current.default, description: current.description };
  }
  return current || {};
}

function label(name) {
  return name.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
}

function field(name, schema, required) {
  const id = `field-${name}`;
  const hint = [];
  if (schema.minimum !== undefined || schema.maximum !== undefined) {
    hint.push(`${schema.minimum ?? ''}–${schema.maximum ?? ''}`);
  }
  if (schema.maxLength) hint.push(`up to ${schema.maxLength} characters`);
  let input;
  if (schema.enum) {
    // No default named: a first, empty choice leaves the field out, so the API applies its own.
    const unset = schema.default == null ? [el('option', { value: '', text: 'default' })] : [];
    input = el('select', { id, name },
      [...unset, ...schema.enum.map((v) => el('option', { value: v, selected: v === schema.default, text: v }))]);
  } else if (schema.type === 'boolean') {
    input = el('input', { id, name, type: 'checkbox', checked: schema.default === true });
  } else if (schema.type === 'integer' || schema.type === 'number') {
    input = el('input', {
      id, name, type: 'number', min: schema.minimum, max: schema.maximum,
      step: schema.type === 'integer' ? 1 : 'any', value: schema.default ?? '', required,
    });
  } else if (schema.maxLength && schema.maxLength > 200) {
    input = el('textarea', { id, name, rows: 2, maxlength: schema.maxLength, placeholder: schema.description || '' });
  } else {
    input = el('input', { id, name, type: 'text', value: schema.default ?? '', maxlength: schema.maxLength, required });
  }
  input.dataset.type = schema.enum ? 'enum' : schema.type;
  const wide = input.tagName === 'TEXTAREA';
  return el('label', { class: `field${wide ? ' wide' : ''}${schema.type === 'boolean' ? ' check' : ''}`, for: id },
    el('span', { class: 'field-name', text: label(name) }),
    input,
    hint.length ? el('span', { class: 'hint', text: hint.join(', ') }) : null);
}

// The form's fields for ``schemaName`` (all but ``omit``), and a reader of their values: empty
// optional fields are left out so the API applies its defaults.
export function schemaForm(doc, schemaName, omit = []) {
  const schema = resolve(doc, { $ref: `#/components/schemas/${schemaName}` });
  const required = new Set(schema.required || []);
  const names = Object.keys(schema.properties || {}).filter((n) => !omit.includes(n));
  const fields = names.map((n) => field(n, resolve(doc, schema.properties[n]), required.has(n)));
  function read(form) {
    const values = {};
    for (const name of names) {
      const input = form.elements.namedItem(name);
      const type = input.dataset.type;
      if (type === 'boolean') values[name] = input.checked;
      else if (input.value.trim() === '') continue;
      else if (type === 'integer' || type === 'number') values[name] = Number(input.value);
      else values[name] = input.value.trim();
    }
    return values;
  }
  return { fields, read };
}

export function enumOf(doc, schemaName, property) {
  const schema = resolve(doc, { $ref: `#/components/schemas/${schemaName}` });
  const prop = resolve(doc, schema.properties[property]);
  return (prop.items && prop.items.enum) || prop.enum || [];
}
