// @ts-check
// Settings: the hardware (GPUs, NVENC, where renders run), the allowed folders, the dashboard's
// defaults, and the installed models.
import { api, byId, el, input, select, start, styleSelect } from './common.js';

/** @typedef {import('../../src/api.ts').Settings} Settings */
/** @typedef {import('../../src/api.ts').Defaults} Defaults */
/** @typedef {import('../../src/api.ts').StyleList} StyleList */
/** @typedef {import('../../src/api.ts').ModelList} ModelList */

/** @param {Settings} s */
function showHardware(s) {
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
  byId('hardware').replaceChildren(
    ...gpus,
    ...s.warnings.map((w) => el('p', { class: 'state-failed' }, w)),
    el('p', {}, `NVENC: ${s.nvenc.usable ? 'usable' : 'not usable'}`),
    el('p', {}, s.advice),
    el('p', { id: 'renderTarget' }, `Renders run on ${s.renderTarget}.`),
  );
  byId('roots').replaceChildren(...s.roots.map((r) => el('li', {}, r)));
}

/**
 * How a quantized version was made and what it measured, or ''.
 * @param {ModelList['models'][number]} m
 */
function int8Note(m) {
  if (!m.quantized) return '';
  const s = m.metrics?.heldOutSsimMin;
  const p = m.metrics?.heldOutPsnrMin;
  const x = m.metrics?.speedup;
  const figures = [
    typeof s === 'number' ? `SSIM ${s.toFixed(4)}` : '',
    typeof p === 'number' ? `PSNR ${p.toFixed(1)} dB` : '',
    typeof x === 'number' ? `${x.toFixed(2)}× faster` : '',
  ].filter(Boolean);
  return ` (int8 from ${m.quantized.from}${figures.length ? `: ${figures.join(', ')}` : ''})`;
}

/** @param {ModelList} list */
function showModels({ models, promoted }) {
  byId('models').replaceChildren(
    ...(models.length
      ? models.map((m) =>
          el(
            'li',
            {},
            `${m.name}@${m.version}${promoted[m.name] === m.version ? ' (promoted)' : ''}${m.builtIn ? ` (built-in, ${m.builtIn.license})` : ''}${int8Note(m)} — ${m.description}`,
          ),
        )
      : [el('li', {}, 'none installed')]),
  );
}

start(async () => {
  /** @type {Settings} */
  const s = await api('/api/settings');
  showHardware(s);
  /** @type {Defaults} */
  const defaults = await api('/api/defaults');
  /** @type {StyleList} */
  const { styles } = await api('/api/styles');
  styleSelect(select('defStyle'), styles, defaults.style);
  select('defPreset').value = defaults.preset;
  select('defCodec').value = defaults.codec;
  input('defCrf').value = String(defaults.crf);
  byId('saveDefaults').addEventListener('click', async () => {
    /** @type {Defaults} */
    const saved = await api('/api/defaults', {
      style: select('defStyle').value,
      preset: select('defPreset').value,
      codec: select('defCodec').value,
      crf: Number(input('defCrf').value),
    });
    byId('defStatus').textContent =
      `Saved: ${saved.style}, ${saved.preset}, ${saved.codec}, CRF ${saved.crf}.`;
  });
  showModels(await api('/api/models'));
});
