// @ts-check
// The dashboard: pick a video (browse, type or upload), a style and its options, preview a frame,
// queue one render or every video of a folder.
import {
  api,
  byId,
  el,
  image,
  input,
  messageOf,
  optionsForm,
  readOptions,
  select,
  start,
  styleSelect,
} from './common.js';

/** @typedef {import('../../src/api.ts').StyleList} StyleList */
/** @typedef {import('../../src/api.ts').RootList} RootList */
/** @typedef {import('../../src/api.ts').Defaults} Defaults */
/** @typedef {import('../../src/api.ts').ModelList} ModelList */
/** @typedef {import('../../src/api.ts').FileList} FileList */
/** @typedef {import('../../src/api.ts').ProbeResult} ProbeResult */
/** @typedef {import('../../src/api.ts').Uploaded} Uploaded */
/** @typedef {import('../../src/api.ts').LabCompared} LabCompared */
/** @typedef {import('../../src/api.ts').QueuedJob} QueuedJob */
/** @typedef {import('../../src/api.ts').FolderQueued} FolderQueued */

/** Show what the input video is, and suggest an output name beside it. */
async function showProbe() {
  try {
    /** @type {ProbeResult} */
    const info = await api(`/api/probe?path=${encodeURIComponent(input('input').value)}`);
    const v = info.streams.find((s) => s.type === 'video');
    byId('probe').textContent =
      v?.type === 'video'
        ? `${v.width}×${v.height}, ${(v.avgFrameRate.num / v.avgFrameRate.den).toFixed(2)} fps, ${info.duration?.toFixed(1)} s, ${v.codec}`
        : 'no video stream';
    if (input('output').value === '')
      input('output').value = input('input').value.replace(/(\.[^./]+)?$/, `-${select('style').value}.mp4`);
  } catch (err) {
    byId('probe').textContent = messageOf(err);
  }
}

/**
 * The file browser: a folder's entries as buttons; the folder card follows it until the user types
 * a folder of their own.
 *
 * @param {readonly string[]} roots
 */
function fileBrowser(roots) {
  const browse = async (/** @type {string} */ dir) => {
    /** @type {FileList} */
    const list = await api(`/api/files?dir=${encodeURIComponent(dir)}`);
    if (input('folder').dataset.typed !== 'yes') input('folder').value = list.dir;
    const up = roots.includes(list.dir)
      ? []
      : [el('button', { type: 'button', 'data-dir': `${list.dir}/..` }, '..')];
    byId('browser').replaceChildren(
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
  byId('browser').addEventListener('click', async (ev) => {
    const b = ev.target instanceof Element ? ev.target.closest('button') : null;
    if (b?.dataset.dir) await browse(b.dataset.dir);
    if (b?.dataset.file) {
      input('input').value = b.dataset.file;
      await showProbe();
    }
  });
  input('folder').addEventListener('input', () => {
    input('folder').dataset.typed = 'yes';
  });
  return browse;
}

/** Upload the chosen file, then make it the input. */
async function upload() {
  const file = input('upload').files?.[0];
  if (!file) return;
  byId('status').textContent = `Uploading ${file.name}…`;
  try {
    /** @type {Uploaded} */
    const uploaded = await api(`/api/upload?name=${encodeURIComponent(file.name)}`, file);
    input('input').value = uploaded.path;
    input('output').value = '';
    byId('status').textContent = `Uploaded as ${uploaded.path}`;
  } catch (err) {
    byId('status').textContent = messageOf(err);
    return;
  }
  await showProbe();
}

/** The style card's settings, for one job or a folder of them. */
function jobSettings() {
  return {
    style: select('style').value,
    stylePreset: select('preset').value,
    styleOptions: readOptions(byId('options')),
    codec: select('codec').value,
    crf: Number(input('crf').value),
    metrics: { enabled: input('metrics').checked },
    ...(select('temporal').value !== '' && { temporal: { mode: select('temporal').value } }),
  };
}

/** One frame before and after the chosen style. */
async function preview() {
  byId('status').textContent = 'Rendering a preview…';
  try {
    /** @type {LabCompared} */
    const cmp = await api('/api/lab/compare', {
      input: input('input').value,
      time: 0,
      a: { style: 'identity' },
      b: {
        style: select('style').value,
        preset: select('preset').value,
        options: readOptions(byId('options')),
      },
    });
    image('prevOriginal').src = cmp.urls.original;
    image('prevStyled').src = cmp.urls.b;
    byId('prevCaption').textContent = `${select('style').value}, frame ${cmp.frameIndex}`;
    byId('previewPane').hidden = false;
    byId('status').textContent = '';
  } catch (err) {
    byId('status').textContent = messageOf(err);
  }
}

async function queueFolder() {
  byId('folderStatus').textContent = 'Queueing…';
  try {
    /** @type {FolderQueued} */
    const res = await api('/api/jobs/folder', {
      folder: input('folder').value,
      outDir: input('folderOut').value,
      recursive: input('folderRecursive').checked,
      ...jobSettings(),
    });
    byId('folderStatus').replaceChildren(
      `Queued ${res.queued.length} video(s) into ${res.outDir}`,
      res.skipped.length > 0 ? ` (${res.skipped.length} skipped: their outputs exist)` : '',
      '. ',
      el('a', { href: '/queue' }, 'See the queue'),
      '.',
    );
  } catch (err) {
    byId('folderStatus').textContent = messageOf(err);
  }
}

async function submit() {
  try {
    /** @type {QueuedJob} */
    const job = await api('/api/jobs', {
      input: input('input').value,
      output: input('output').value,
      ...jobSettings(),
    });
    byId('status').replaceChildren('Queued as ', el('a', { href: '/queue' }, job.id), '.');
  } catch (err) {
    byId('status').textContent = messageOf(err);
  }
}

start(async () => {
  /** @type {StyleList} */
  const { styles } = await api('/api/styles');
  /** @type {RootList} */
  const { roots } = await api('/api/roots');
  /** @type {Defaults} */
  const defaults = await api('/api/defaults');
  styleSelect(select('style'), styles, defaults.style);
  select('preset').value = defaults.preset;
  select('codec').value = defaults.codec;
  input('crf').value = String(defaults.crf);
  /** @type {ModelList} */
  const { models } = await api('/api/models');
  const schemaOf = () => styles.find((s) => s.name === select('style').value)?.schema;
  optionsForm(byId('options'), schemaOf(), models);
  select('style').addEventListener('change', () => optionsForm(byId('options'), schemaOf(), models));
  const browse = fileBrowser(roots);
  input('input').addEventListener('change', showProbe);
  input('upload').addEventListener('change', upload);
  await browse(roots[0] ?? '');
  byId('preview').addEventListener('click', preview);
  byId('queueFolder').addEventListener('click', queueFolder);
  byId('submit').addEventListener('click', submit);
});
