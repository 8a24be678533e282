/**
 * Turns a monitor type's config JSON Schema (zod 4's `z.toJSONSchema`, with our meta keys `label`, `help`,
 * `secret`) into a flat list of form fields, and the form's string values back into a config object.
 * Pure functions, so the rules of the form are in one place and the form component stays simple.
 */
export type FieldKind = 'text' | 'url' | 'secret' | 'number' | 'integer' | 'boolean' | 'enum' | 'list' | 'json' | 'textarea';

export interface FormField {
  name: string;
  kind: FieldKind;
  label: string;
  help: string | null;
  required: boolean;
  options: string[];
  defaultValue: unknown;
  min?: number;
  max?: number;
}

type Schema = Record<string, unknown>;

function asSchema(x: unknown): Schema {
  return x && typeof x === 'object' ? (x as Schema) : {};
}

/** `feedUrl` → `Feed url`: a readable fallback when a schema property has no label or title. */
export function humanize(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Unwrap `anyOf: [X, {type: null}]` (nullable/optional) to X. */
function unwrapNullable(s: Schema): Schema {
  const alts = (s.anyOf ?? s.oneOf) as unknown;
  if (Array.isArray(alts)) {
    const nonNull = alts.map(asSchema).filter((a) => a.type !== 'null');
    if (nonNull.length === 1) return { ...nonNull[0], ...omit(s, ['anyOf', 'oneOf']) };
  }
  return s;
}

function omit(s: Schema, keys: string[]): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) if (!keys.includes(k)) out[k] = v;
  return out;
}

export function fieldsFromSchema(schema: Record<string, unknown>): FormField[] {
  const props = asSchema(schema.properties);
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(props).map(([name, raw]) => {
    const s = unwrapNullable(asSchema(raw));
    const type = Array.isArray(s.type) ? (s.type as string[]).find((t) => t !== 'null') : (s.type as string | undefined);
    const hasDefault = 'default' in s;
    let kind: FieldKind = 'text';
    let options: string[] = [];
    if (s.secret === true) kind = 'secret';
    else if (Array.isArray(s.enum)) {
      kind = 'enum';
      options = (s.enum as unknown[]).map(String);
    } else if (s.const !== undefined) {
      kind = 'enum';
      options = [String(s.const)];
    } else if (type === 'boolean') kind = 'boolean';
    else if (type === 'integer') kind = 'integer';
    else if (type === 'number') kind = 'number';
    else if (type === 'array' && ['string', 'number', 'integer'].includes(String(asSchema(s.items).type))) kind = 'list';
    else if (type === 'array' || type === 'object') kind = 'json';
    else if (s.format === 'uri' || s.format === 'url') kind = 'url';
    else if (s.multiline === true || (typeof s.maxLength === 'number' && s.maxLength > 500)) kind = 'textarea';
    const label = str(s.label) ?? str(s.title) ?? humanize(name);
    const help = str(s.help) ?? str(s.description) ?? null;
    return {
      name,
      kind,
      label,
      help: help === label ? null : help,
      // zod marks fields with defaults as required in output mode; the user does not have to fill those.
      required: required.has(name) && !hasDefault,
      options,
      defaultValue: s.default,
      min: typeof s.minimum === 'number' && Math.abs(s.minimum) < Number.MAX_SAFE_INTEGER ? s.minimum : undefined,
      max: typeof s.maximum === 'number' && Math.abs(s.maximum) < Number.MAX_SAFE_INTEGER ? s.maximum : undefined,
    };
  });
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x.trim() ? x : undefined;
}

/** The form's editable text for a field, from an existing config value or the schema default. */
export function initialValue(field: FormField, existing: unknown): string {
  const v = existing !== undefined ? existing : field.defaultValue;
  if (v === undefined || v === null) return field.kind === 'boolean' ? 'false' : '';
  if (field.kind === 'list' && Array.isArray(v)) return v.join('\n');
  if (field.kind === 'json') return JSON.stringify(v, null, 2);
  return String(v);
}

export interface BuildResult {
  config: Record<string, unknown>;
  errors: Record<string, string>;
}

/**
 * Form text → config. Empty optional fields are left out so the schema's defaults apply; secrets left empty
 * on edit mean "keep the stored one" and are left out too.
 */
export function buildConfig(fields: FormField[], values: Record<string, string>): BuildResult {
  const config: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const raw = values[f.name] ?? '';
    const text = f.kind === 'textarea' || f.kind === 'secret' ? raw : raw.trim();
    if (f.kind === 'boolean') {
      config[f.name] = text === 'true';
      continue;
    }
    if (text === '') {
      if (f.required && f.kind !== 'secret') errors[f.name] = `${f.label} is required`;
      continue;
    }
    switch (f.kind) {
      case 'number':
      case 'integer': {
        const n = Number(text);
        if (!Number.isFinite(n) || (f.kind === 'integer' && !Number.isInteger(n))) {
          errors[f.name] = `${f.label} must be ${f.kind === 'integer' ? 'a whole number' : 'a number'}`;
        } else if (f.min !== undefined && n < f.min) errors[f.name] = `${f.label} must be at least ${f.min}`;
        else if (f.max !== undefined && n > f.max) errors[f.name] = `${f.label} must be at most ${f.max}`;
        else config[f.name] = n;
        break;
      }
      case 'list':
        config[f.name] = text.split(/\n|,/).map((s) => s.trim()).filter(Boolean);
        break;
      case 'json':
        try {
          config[f.name] = JSON.parse(text);
        } catch (e) {
          errors[f.name] = `${f.label}: not valid JSON (${(e as Error).message})`;
        }
        break;
      case 'url':
        try {
          const u = new URL(text);
          if (!/^https?:$/.test(u.protocol) && !/^file:$/.test(u.protocol)) throw new Error('scheme');
          config[f.name] = text;
        } catch {
          errors[f.name] = `${f.label} must be a full URL starting with http:// or https://`;
        }
        break;
      default:
        config[f.name] = text;
    }
  }
  return { config, errors };
}

/**
 * An engine's word on a field in the form's own words: schema checks without a message of their own say "required"
 * or zod's "Too big: expected number to be <=65535"; a person reads "Port must be at most 65535". Messages a plug-in
 * wrote ("a topic uses letters, digits…") stay as they are.
 */
export function fieldMessage(field: Pick<FormField, 'label'>, message: string): string {
  const label = field.label;
  if (message === 'required' || /^Invalid input: expected \w+, received undefined/.test(message) || /^Too small: expected string to have >=1 characters?$/.test(message)) return `${label} is required`;
  const size = /^Too (small|big): expected (\w+) to (?:be|have) ([<>]=?)\s*([\d.,]+)/.exec(message);
  if (size) {
    const [, which, kind, op, n] = size;
    const bound = which === 'small' ? (op === '>' ? 'more than' : 'at least') : op === '<' ? 'less than' : 'at most';
    if (kind === 'string') return `${label} must have ${bound} ${n} characters`;
    if (kind === 'array') return `${label} must have ${bound} ${n} items`;
    return `${label} must be ${bound} ${n}`;
  }
  const option = /^Invalid option: expected one of (.+)$/.exec(message);
  if (option) return `${label}: choose one of ${option[1]!.replace(/"/g, '').split('|').join(', ')}`;
  if (/^Invalid (input|string|url|URL)/.test(message)) return `${label} is not valid`;
  return message;
}
