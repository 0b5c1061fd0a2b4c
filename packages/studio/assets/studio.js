// Framecraft Studio pages: one module, each page's part chosen by <body data-page>. Talks to the
// JSON API only; live updates come from server-sent events.
const $ = (id) => document.getElementById(id);
const api = async (path, body) => {
  const res = await fetch(
    path,
    body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const data = await res.json().catch(() => ({}));
  if (!res.ok)
    throw new Error(data.error ? `${data.error.code}: ${data.error.message}` : `HTTP ${res.status}`);
  return data;
};
const fmt = (s) =>
  s === null || s === undefined ? '–' : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, v);
  e.append(...children);
  return e;
};

async function styleSelect(select, styles, chosen) {
  select.replaceChildren(
    ...styles.map((s) =>
      el('option', { value: s.name, ...(s.name === chosen ? { selected: '' } : {}) }, s.name),
    ),
  );
}

/**
 * A form for a style's options, from its JSON Schema; a `model` option (the neural style) offers
 * the registry's models by name, the built-in ones included.
 */
function optionsForm(container, schema, models = []) {
  container.replaceChildren();
  const props = schema?.properties ?? {};
  const modelNames = [...new Set(models.map((m) => m.name))];
  for (const [key, p] of Object.entries(props)) {
    let input;
    if (key === 'model' && modelNames.length > 0)
      input = el(
        'select',
        { name: key },
        ...modelNames.map((n) => {
          const builtIn = models.some((m) => m.name === n && m.builtIn);
          return el(
            'option',
            { value: n, ...(n === p.default ? { selected: '' } : {}) },
            builtIn ? `${n} (built-in)` : n,
          );
        }),
      );
    else if (Array.isArray(p.anyOf) && p.anyOf.every((a) => 'const' in a))
      // A choice of literal values (the neural style's range: 255 or 1), kept as their type.
      input = el(
        'select',
        { name: key, 'data-type': typeof p.anyOf[0].const },
        ...p.anyOf.map((a) =>
          el(
            'option',
            { value: String(a.const), ...(a.const === p.default ? { selected: '' } : {}) },
            String(a.const),
          ),
        ),
      );
    else if (Array.isArray(p.enum))
      input = el(
        'select',
        { name: key },
        ...p.enum.map((v) =>
          el('option', { value: v, ...(v === p.default ? { selected: '' } : {}) }, String(v)),
        ),
      );
    else if (p.type === 'boolean')
      input = el('input', { name: key, type: 'checkbox', ...(p.default ? { checked: '' } : {}) });
    else if (p.type === 'number' || p.type === 'integer')
      input = el('input', {
        name: key,
        type: 'number',
        step: p.type === 'integer' ? '1' : 'any',
        min: p.minimum,
        max: p.maximum,
        value: p.default,
      });
    else input = el('input', { name: key, value: p.default ?? '' });
    container.append(el('label', {}, key, input));
  }
}

function readOptions(container) {
  const out = {};
  for (const input of container.querySelectorAll('[name]')) {
    if (input.type === 'checkbox') out[input.name] = input.checked;
    else if (input.type === 'number' || input.dataset.type === 'number') {
      if (input.value !== '') out[input.name] = Number(input.value);
    } else if (input.value !== '') out[input.name] = input.value;
  }
  return out;
}

async function dashboard() {
  const { styles } = await api('/api/styles');
  const { roots } = await api('/api/roots');
  const defaults = await api('/api/defaults');
  await styleSelect($('style'), styles, defaults.style);
  $('preset').value = defaults.preset;
  $('codec').value = defaults.codec;
  $('crf').value = String(defaults.crf);
  const { models } = await api('/api/models');
  const schemaOf = () => styles.find((s) => s.name === $('style').value)?.schema;
  optionsForm($('options'), schemaOf(), models);
  $('style').addEventListener('change', () => optionsForm($('options'), schemaOf(), models));
  const browse = async (dir) => {
    const list = await api(`/api/files?dir=${encodeURIComponent(dir)}`);
    // The folder card follows the browser until the user types a folder of their own.
    if ($('folder').dataset.typed !== 'yes') $('folder').value = list.dir;
    const up = roots.includes(list.dir)
      ? []
      : [el('button', { type: 'button', 'data-dir': `${list.dir}/..` }, '..')];
    $('browser').replaceChildren(
      ...up,
      ...list.entries.map((e) =>
        el(
          'button',
          { type: 'button', [e.dir ? 'data-dir' : 'data-file']: `${list.dir}/${e.name}` },
          e.dir ? `${e.name}/` : e.name,
        ),
      ),
    );
  };
  $('browser').addEventListener('click', async (ev) => {
    const b = ev.target.closest('button');
    if (b?.dataset.dir) await browse(b.dataset.dir);
    if (b?.dataset.file) {
      $('input').value = b.dataset.file;
      await showProbe();
    }
  });
  const showProbe = async () => {
    try {
      const info = await api(`/api/probe?path=${encodeURIComponent($('input').value)}`);
      const v = info.streams.find((s) => s.type === 'video');
      $('probe').textContent = v
        ? `${v.width}×${v.height}, ${(v.avgFrameRate.num / v.avgFrameRate.den).toFixed(2)} fps, ${info.duration?.toFixed?.(1)} s, ${v.codec}`
        : 'no video stream';
      if ($('output').value === '')
        $('output').value = $('input').value.replace(/(\.[^./]+)?$/, `-${$('style').value}.mp4`);
    } catch (err) {
      $('probe').textContent = String(err.message);
    }
  };
  $('input').addEventListener('change', showProbe);
  $('upload').addEventListener('change', async () => {
    const file = $('upload').files[0];
    if (!file) return;
    $('status').textContent = `Uploading ${file.name}…`;
    const res = await fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: file,
    });
    const data = await res.json();
    if (!res.ok) {
      $('status').textContent = `${data.error.code}: ${data.error.message}`;
      return;
    }
    $('input').value = data.path;
    $('output').value = '';
    $('status').textContent = `Uploaded as ${data.path}`;
    await showProbe();
  });
  await browse(roots[0]);
  $('preview').addEventListener('click', async () => {
    $('status').textContent = 'Rendering a preview…';
    try {
      const cmp = await api('/api/lab/compare', {
        input: $('input').value,
        time: 0,
        a: { style: 'identity' },
        b: { style: $('style').value, preset: $('preset').value, options: readOptions($('options')) },
      });
      $('prevOriginal').src = cmp.urls.original;
      $('prevStyled').src = cmp.urls.b;
      $('prevCaption').textContent = `${$('style').value}, frame ${cmp.frameIndex}`;
      $('previewPane').hidden = false;
      $('status').textContent = '';
    } catch (err) {
      $('status').textContent = err.message;
    }
  });
  /** The style card's settings, for one job or a folder of them. */
  const jobSettings = () => ({
    style: $('style').value,
    stylePreset: $('preset').value,
    styleOptions: readOptions($('options')),
    codec: $('codec').value,
    crf: Number($('crf').value),
    metrics: { enabled: $('metrics').checked },
    ...($('temporal').value !== '' && { temporal: { mode: $('temporal').value } }),
  });
  $('folder').addEventListener('input', () => {
    $('folder').dataset.typed = 'yes';
  });
  $('queueFolder').addEventListener('click', async () => {
    $('folderStatus').textContent = 'Queueing…';
    try {
      const res = await api('/api/jobs/folder', {
        folder: $('folder').value,
        outDir: $('folderOut').value,
        recursive: $('folderRecursive').checked,
        ...jobSettings(),
      });
      $('folderStatus').replaceChildren(
        `Queued ${res.queued.length} video(s) into ${res.outDir}`,
        res.skipped.length > 0 ? ` (${res.skipped.length} skipped: their outputs exist)` : '',
        '. ',
        el('a', { href: '/queue' }, 'See the queue'),
        '.',
      );
    } catch (err) {
      $('folderStatus').textContent = err.message;
    }
  });
  $('submit').addEventListener('click', async () => {
    try {
      const job = await api('/api/jobs', {
        input: $('input').value,
        output: $('output').value,
        ...jobSettings(),
      });
      $('status').replaceChildren('Queued as ', el('a', { href: '/queue' }, job.id), '.');
    } catch (err) {
      $('status').textContent = err.message;
    }
  });
}

function lineChart(points, { label, width = 600, height = 200 }) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + 20}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  if (points.length === 0) return svg;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const px = (x) => 40 + ((x - x0) / (x1 - x0 || 1)) * (width - 50);
  const py = (y) => 10 + (1 - (y - y0) / (y1 - y0)) * (height - 20);
  const path = document.createElementNS(svg.namespaceURI, 'polyline');
  path.setAttribute('points', points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' '));
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', '#3c5bd8');
  path.setAttribute('stroke-width', '2');
  svg.append(path);
  for (const [y, text] of [
    [y1, y1.toPrecision(3)],
    [y0, y0.toPrecision(3)],
  ]) {
    const t = document.createElementNS(svg.namespaceURI, 'text');
    t.setAttribute('x', '2');
    t.setAttribute('y', String(py(y) + 4));
    t.setAttribute('font-size', '11');
    t.textContent = text;
    svg.append(t);
  }
  const t = document.createElementNS(svg.namespaceURI, 'text');
  t.setAttribute('x', '40');
  t.setAttribute('y', String(height + 16));
  t.setAttribute('font-size', '12');
  t.textContent = label;
  svg.append(t);
  return svg;
}

async function queue() {
  const rows = new Map();
  const render = (job) => {
    const p = job.progress;
    const pct = p && p.totalFrames > 0 ? Math.round((100 * p.framesDone) / p.totalFrames) : 0;
    const actions = el('td');
    if (job.state === 'running' || job.state === 'queued') {
      const b = el('button', { type: 'button' }, 'Cancel');
      b.addEventListener('click', () => api(`/api/jobs/${job.id}/cancel`, {}));
      actions.append(b);
    }
    if (job.state === 'failed' || job.state === 'canceled') {
      const b = el('button', { type: 'button' }, 'Retry');
      b.addEventListener('click', () => api(`/api/jobs/${job.id}/retry`, {}));
      actions.append(b);
    }
    if (job.state === 'done') {
      const b = el('button', { type: 'button', class: 'open' }, 'Open');
      b.addEventListener('click', () => openResult(job));
      actions.append(b);
    }
    const tr = el(
      'tr',
      { 'data-job': job.id },
      el('td', {}, job.job.output.split('/').pop()),
      el('td', {}, job.job.style),
      el(
        'td',
        { class: `state-${job.state}` },
        job.state +
          (job.resumed > 0 ? ` (resumed after a restart)` : '') +
          (job.error ? ` — ${job.error.message}` : ''),
      ),
      el(
        'td',
        {},
        el('progress', { max: '100', value: String(job.state === 'done' ? 100 : pct) }),
        ` ${job.state === 'done' ? 100 : pct} %`,
      ),
      el('td', {}, p ? p.fps.toFixed(1) : '–'),
      el('td', {}, job.state === 'running' ? fmt(p?.etaSeconds) : '–'),
      actions,
    );
    const old = rows.get(job.id);
    if (old) old.replaceWith(tr);
    else $('jobs').prepend(tr);
    rows.set(job.id, tr);
  };
  const openResult = async (job) => {
    $('result').hidden = false;
    $('resultTitle').textContent = job.job.output;
    $('player').src = `/api/file?path=${encodeURIComponent(job.job.output)}`;
    $('charts').replaceChildren();
    try {
      const { frames } = await api(`/api/metrics?output=${encodeURIComponent(job.job.output)}`);
      for (const key of ['ssim', 'sharpness', 'temporal_consistency', 'warping_error']) {
        const pts = frames.filter((f) => typeof f[key] === 'number').map((f) => [f.frame_idx, f[key]]);
        if (pts.length > 0) $('charts').append(lineChart(pts, { label: `${key} per frame`, height: 160 }));
      }
    } catch (err) {
      $('charts').append(el('p', {}, err.message));
    }
  };
  api('/api/jobs').then(
    ({ target }) => {
      $('target').textContent = `Renders run on ${target}.`;
    },
    () => undefined,
  );
  const events = new EventSource('/api/events');
  events.addEventListener('jobs', (e) => {
    for (const job of JSON.parse(e.data)) render(job);
  });
  events.addEventListener('job', (e) => render(JSON.parse(e.data)));
}

async function lab() {
  const { styles } = await api('/api/styles');
  await styleSelect($('styleA'), styles, 'pencil');
  await styleSelect($('styleB'), styles, 'cartoon');
  let current = null;
  $('compare').addEventListener('click', async () => {
    $('labStatus').textContent = 'Rendering both…';
    try {
      current = await api('/api/lab/compare', {
        input: $('labInput').value,
        time: Number($('labTime').value),
        a: { style: $('styleA').value },
        b: { style: $('styleB').value },
      });
      $('imgA').src = current.urls.a;
      $('imgB').src = current.urls.b;
      $('sideA').src = current.urls.a;
      $('sideB').src = current.urls.b;
      $('capA').textContent = `A: ${current.a.style}`;
      $('capB').textContent = `B: ${current.b.style}`;
      $('abPane').hidden = false;
      $('labStatus').textContent =
        `Frame ${current.frameIndex}: A = ${current.a.style} (left of the line), B = ${current.b.style}.`;
    } catch (err) {
      $('labStatus').textContent = err.message;
    }
  });
  const wipe = () => {
    $('wipeA').style.width = `${$('slider').value}%`;
    $('imgA').style.width = `${$('wipe').clientWidth}px`;
  };
  $('slider').addEventListener('input', wipe);
  $('imgB').addEventListener('load', wipe);
  for (const b of document.querySelectorAll('[data-choice]'))
    b.addEventListener('click', async () => {
      if (current === null) return;
      try {
        const r = await api('/api/lab/judge', {
          id: current.id,
          choice: b.dataset.choice,
          approved: $('approve').checked,
          ...($('rating').value ? { rating: Number($('rating').value) } : {}),
        });
        $('labStatus').textContent = `Saved ${r.id} to the feedback log (${b.dataset.choice}).`;
      } catch (err) {
        $('labStatus').textContent = err.message;
      }
    });
}

async function trainer() {
  const { models, promoted } = await api('/api/models');
  $('trainBase').replaceChildren(
    ...[...new Set(models.map((m) => m.name))].map((n) =>
      el('option', { value: n }, `${n}${promoted[n] ? ` (${promoted[n]})` : ''}`),
    ),
  );
  const { pairs } = await api('/api/feedback');
  $('pairs').replaceChildren(
    ...(pairs.length === 0
      ? [el('p', {}, 'No approved judgements yet: approve some in the style lab.')]
      : pairs.map((p) =>
          el(
            'label',
            {},
            el('input', { type: 'checkbox', value: p.id, checked: '' }),
            el('img', { src: p.input, alt: 'input' }),
            el('img', { src: p.target, alt: p.style ?? 'target' }),
          ),
        )),
  );
  let run = null;
  $('trainStart').addEventListener('click', async () => {
    const losses = [];
    $('verdict').hidden = true;
    try {
      const chosen = [...document.querySelectorAll('#pairs input:checked')].map((i) => i.value);
      run = await api('/api/train', {
        name: $('trainName').value,
        mode: $('trainMode').value,
        base: $('trainBase').value,
        steps: Number($('trainSteps').value),
        pairs: chosen,
      });
    } catch (err) {
      $('trainStatus').textContent = err.message;
      return;
    }
    $('trainStatus').textContent = `Training ${run.id}…`;
    const events = new EventSource(`/api/train/${run.id}/events`);
    events.addEventListener('train', (e) => {
      const ev = JSON.parse(e.data);
      if (ev.type === 'step') {
        losses.push([ev.step, ev.loss]);
        $('lossPlot').replaceChildren(...lineChart(losses, { label: 'training loss' }).childNodes);
        $('trainStatus').textContent = `step ${ev.step}/${ev.steps}, loss ${ev.loss.toFixed(5)}`;
      }
      if (ev.type === 'evaluated' && ev.candidate === null) {
        $('verdictTable').replaceChildren(
          el(
            'tr',
            {},
            el(
              'td',
              {},
              'No held-out pairs: every approved pair comes from one shot, so there is nothing fair to compare on. Look at the model in the style lab before promoting it.',
            ),
          ),
        );
      } else if (ev.type === 'evaluated') {
        const row = (name, m) =>
          el(
            'tr',
            {},
            el('td', {}, name),
            el('td', {}, m ? m.mse.toFixed(2) : '–'),
            el('td', {}, m ? m.ssim.toFixed(4) : '–'),
          );
        $('verdictTable').replaceChildren(
          el('tr', {}, el('th', {}, 'model'), el('th', {}, 'MSE'), el('th', {}, 'SSIM')),
          row('new', ev.candidate),
          row(`current ${ev.currentVersion ?? ''}`, ev.current),
        );
      }
    });
    events.addEventListener('end', (e) => {
      events.close();
      run = JSON.parse(e.data);
      $('trainStatus').textContent =
        run.state === 'trained'
          ? `Trained: ${run.candidate.name}@${run.candidate.version}`
          : `${run.state}: ${run.error?.message ?? ''}`;
      $('verdict').hidden = run.state !== 'trained';
    });
  });
  for (const [id, action] of [
    ['promote', 'promote'],
    ['discard', 'discard'],
  ])
    $(id).addEventListener('click', async () => {
      const r = await api(`/api/train/${run.id}/${action}`, {});
      $('trainStatus').textContent = `${r.candidate.name}@${r.candidate.version}: ${r.state}`;
      $('verdict').hidden = true;
    });
}

async function settings() {
  const s = await api('/api/settings');
  const gpus =
    s.gpus.length === 0
      ? [el('p', { id: 'noGpu' }, `No GPU: ${s.gpuNote}`)]
      : s.gpus.map((g) =>
          el(
            'p',
            {},
            `${g.name}: ${g.memoryUsedMiB}/${g.memoryTotalMiB} MiB VRAM, ${g.temperatureC ?? '?'} °C`,
          ),
        );
  $('hardware').replaceChildren(
    ...gpus,
    ...s.warnings.map((w) => el('p', { class: 'state-failed' }, w)),
    el('p', {}, `NVENC: ${s.nvenc.usable ? 'usable' : 'not usable'}`),
    el('p', {}, s.advice),
    el('p', { id: 'renderTarget' }, `Renders run on ${s.renderTarget}.`),
  );
  $('roots').replaceChildren(...s.roots.map((r) => el('li', {}, r)));
  const defaults = await api('/api/defaults');
  const { styles } = await api('/api/styles');
  await styleSelect($('defStyle'), styles, defaults.style);
  $('defPreset').value = defaults.preset;
  $('defCodec').value = defaults.codec;
  $('defCrf').value = String(defaults.crf);
  $('saveDefaults').addEventListener('click', async () => {
    const saved = await api('/api/defaults', {
      style: $('defStyle').value,
      preset: $('defPreset').value,
      codec: $('defCodec').value,
      crf: Number($('defCrf').value),
    });
    $('defStatus').textContent = `Saved: ${saved.style}, ${saved.preset}, ${saved.codec}, CRF ${saved.crf}.`;
  });
  const { models, promoted } = await api('/api/models');
  $('models').replaceChildren(
    ...(models.length
      ? models.map((m) =>
          el(
            'li',
            {},
            `${m.name}@${m.version}${promoted[m.name] === m.version ? ' (promoted)' : ''}${m.builtIn ? ` (built-in, ${m.builtIn.license})` : ''} — ${m.description}`,
          ),
        )
      : [el('li', {}, 'none installed')]),
  );
}

const pages = { '/': dashboard, '/queue': queue, '/lab': lab, '/trainer': trainer, '/settings': settings };
// data-ready marks the page as set up (its fields filled, its buttons listening): what a test
// or a script driving the page waits for before typing into it.
Promise.resolve(pages[document.body.dataset.page]?.())
  .catch((err) => {
    document.querySelector('main').append(el('p', { class: 'state-failed' }, err.message));
  })
  .finally(() => {
    document.body.dataset.ready = 'yes';
  });
