// @ts-check
// What every studio page uses: typed element lookup, the JSON API, element building, the style
// option forms and the line chart. Pages talk to the JSON API only; live updates come from
// server-sent events. Types come from the server's own (src/api.ts), checked by tsc (checkJs).

/** @typedef {import('../../src/api.ts').StyleInfo} StyleInfo */
/** @typedef {import('../../src/api.ts').ModelList} ModelList */
/** @typedef {import('../../src/api.ts').ErrorBody} ErrorBody */

/**
 * The element with this id.
 *
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page has no #${id}`);
  return e;
}

/**
 * The element with this id, which must be of this kind.
 *
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} kind
 * @returns {T}
 */
function typed(id, kind) {
  const e = byId(id);
  if (!(e instanceof kind))
    throw new Error(`#${id} is a <${e.tagName.toLowerCase()}>, not the expected kind`);
  return e;
}

/** @param {string} id */
export const input = (id) => typed(id, HTMLInputElement);
/** @param {string} id */
export const select = (id) => typed(id, HTMLSelectElement);
/** @param {string} id */
export const image = (id) => typed(id, HTMLImageElement);

/**
 * GET (no body) or POST (a JSON body, or a file sent as is); an error answer throws its code and
 * message.
 *
 * @template T
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<T>}
 */
export async function api(path, body) {
  /** @type {RequestInit} */
  const init =
    body === undefined
      ? {}
      : body instanceof Blob
        ? { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body }
        : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(errorText(data, res.status));
  return data;
}

/**
 * An error answer in words.
 *
 * @param {Partial<ErrorBody>} data
 * @param {number} status
 */
function errorText(data, status) {
  return data.error ? `${data.error.code}: ${data.error.message}` : `HTTP ${status}`;
}

/**
 * A failure in words, for a status line.
 *
 * @param {unknown} err
 */
export const messageOf = (err) => (err instanceof Error ? err.message : String(err));

/**
 * Seconds in words.
 *
 * @param {number | null | undefined} s
 */
export const duration = (s) =>
  s === null || s === undefined ? '–' : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;

/**
 * Build an element; attributes with an undefined value are left out.
 *
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | undefined>} [attrs]
 * @param {(Node | string)[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, String(v));
  e.append(...children);
  return e;
}

/**
 * Fill a select with the styles, one chosen.
 *
 * @param {HTMLSelectElement} target
 * @param {readonly StyleInfo[]} styles
 * @param {string} chosen
 */
export function styleSelect(target, styles, chosen) {
  target.replaceChildren(
    ...styles.map((s) =>
      el('option', { value: s.name, ...(s.name === chosen ? { selected: '' } : {}) }, s.name),
    ),
  );
}

/** @typedef {import('@valibot/to-json-schema').JSONSchema7} OptionSchema */

/**
 * The control for one option: a choice of values, a checkbox, a number or text.
 *
 * @param {string} key
 * @param {OptionSchema} p
 * @param {ModelList['models']} models
 * @returns {HTMLInputElement | HTMLSelectElement}
 */
function optionControl(key, p, models) {
  const chosen = (/** @type {unknown} */ v) => (v === p.default ? { selected: '' } : {});
  const modelNames = [...new Set(models.map((m) => m.name))];
  if (key === 'model' && modelNames.length > 0)
    return el(
      'select',
      { name: key },
      ...modelNames.map((n) =>
        el(
          'option',
          { value: n, ...chosen(n) },
          models.some((m) => m.name === n && m.builtIn) ? `${n} (built-in)` : n,
        ),
      ),
    );
  const literals = (p.anyOf ?? []).map((a) => (typeof a === 'object' && 'const' in a ? a.const : undefined));
  const consts = literals.length > 0 && literals.every((c) => c !== undefined) ? literals : null;
  // A choice of literal values (the neural style's range: 255 or 1), kept as their type.
  if (consts !== null)
    return el(
      'select',
      { name: key, 'data-type': typeof consts[0] },
      ...consts.map((c) => el('option', { value: String(c), ...chosen(c) }, String(c))),
    );
  if (Array.isArray(p.enum))
    return el(
      'select',
      { name: key },
      ...p.enum.map((c) => el('option', { value: String(c), ...chosen(c) }, String(c))),
    );
  if (p.type === 'boolean')
    return el('input', { name: key, type: 'checkbox', ...(p.default ? { checked: '' } : {}) });
  if (p.type === 'number' || p.type === 'integer')
    return el('input', {
      name: key,
      type: 'number',
      step: p.type === 'integer' ? '1' : 'any',
      min: p.minimum,
      max: p.maximum,
      value: typeof p.default === 'number' ? p.default : undefined,
    });
  return el('input', { name: key, value: p.default === undefined ? '' : String(p.default) });
}

/**
 * A form for a style's options, from its JSON Schema; a `model` option (the neural style) offers
 * the registry's models by name, the built-in ones included.
 *
 * @param {HTMLElement} container
 * @param {StyleInfo['schema'] | undefined} schema
 * @param {ModelList['models']} [models]
 */
export function optionsForm(container, schema, models = []) {
  container.replaceChildren();
  for (const [key, p] of Object.entries(schema?.properties ?? {}))
    if (typeof p === 'object') container.append(el('label', {}, key, optionControl(key, p, models)));
}

/**
 * The options a form holds, typed as their schema says.
 *
 * @param {HTMLElement} container
 * @returns {Record<string, unknown>}
 */
export function readOptions(container) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const control of container.querySelectorAll('[name]')) {
    if (control instanceof HTMLInputElement && control.type === 'checkbox')
      out[control.name] = control.checked;
    else if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement) {
      if (control.value === '') continue;
      const numeric = control.type === 'number' || control.dataset.type === 'number';
      out[control.name] = numeric ? Number(control.value) : control.value;
    }
  }
  return out;
}

const SVG = 'http://www.w3.org/2000/svg';

/**
 * An SVG text at (x, y).
 *
 * @param {number} x
 * @param {number} y
 * @param {number} size
 * @param {string} content
 */
function svgText(x, y, size, content) {
  const t = document.createElementNS(SVG, 'text');
  t.setAttribute('x', String(x));
  t.setAttribute('y', String(y));
  t.setAttribute('font-size', String(size));
  t.textContent = content;
  return t;
}

/**
 * A line chart of (x, y) points with its y range and a label.
 *
 * @param {[number, number][]} points
 * @param {{ label: string, width?: number, height?: number }} o
 * @returns {SVGSVGElement}
 */
export function lineChart(points, { label, width = 600, height = 200 }) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 20}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  if (points.length === 0) return svg;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const px = (/** @type {number} */ x) => 40 + ((x - x0) / (x1 - x0 || 1)) * (width - 50);
  const py = (/** @type {number} */ y) => 10 + (1 - (y - y0) / (y1 - y0)) * (height - 20);
  const path = document.createElementNS(SVG, 'polyline');
  path.setAttribute('points', points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' '));
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', '#3c5bd8');
  path.setAttribute('stroke-width', '2');
  svg.append(path);
  svg.append(svgText(2, py(y1) + 4, 11, y1.toPrecision(3)), svgText(2, py(y0) + 4, 11, y0.toPrecision(3)));
  svg.append(svgText(40, height + 16, 12, label));
  return svg;
}

/**
 * Set the page up, then mark it ready (`data-ready`): what a test or a script driving the page
 * waits for before typing into it. A failure is shown on the page.
 *
 * @param {() => Promise<void>} setUp
 */
export function start(setUp) {
  setUp()
    .catch((err) => {
      document.querySelector('main')?.append(el('p', { class: 'state-failed' }, messageOf(err)));
    })
    .finally(() => {
      document.body.dataset.ready = 'yes';
    });
}
