// @ts-check
// The style lab: one frame of a clip in two styles, a wipe and side by side, and a judgement that
// goes to the feedback log.
import { api, byId, image, input, messageOf, select, start, styleSelect } from './common.js';

/** @typedef {import('../../src/api.ts').StyleList} StyleList */
/** @typedef {import('../../src/api.ts').LabCompared} LabCompared */
/** @typedef {import('../../src/api.ts').FeedbackRecord} FeedbackRecord */

/**
 * Render the frame with both styles and show them.
 *
 * @returns {Promise<LabCompared | null>}
 */
async function compare() {
  byId('labStatus').textContent = 'Rendering both…';
  try {
    /** @type {LabCompared} */
    const cmp = await api('/api/lab/compare', {
      input: input('labInput').value,
      time: Number(input('labTime').value),
      a: { style: select('styleA').value },
      b: { style: select('styleB').value },
    });
    image('imgA').src = cmp.urls.a;
    image('imgB').src = cmp.urls.b;
    image('sideA').src = cmp.urls.a;
    image('sideB').src = cmp.urls.b;
    byId('capA').textContent = `A: ${cmp.a.style}`;
    byId('capB').textContent = `B: ${cmp.b.style}`;
    byId('abPane').hidden = false;
    byId('labStatus').textContent =
      `Frame ${cmp.frameIndex}: A = ${cmp.a.style} (left of the line), B = ${cmp.b.style}.`;
    return cmp;
  } catch (err) {
    byId('labStatus').textContent = messageOf(err);
    return null;
  }
}

/**
 * Append a judgement of the comparison shown.
 *
 * @param {LabCompared} cmp
 * @param {string} choice
 */
async function judge(cmp, choice) {
  try {
    /** @type {FeedbackRecord} */
    const r = await api('/api/lab/judge', {
      id: cmp.id,
      choice,
      approved: input('approve').checked,
      ...(select('rating').value ? { rating: Number(select('rating').value) } : {}),
    });
    byId('labStatus').textContent = `Saved ${r.id} to the feedback log (${choice}).`;
  } catch (err) {
    byId('labStatus').textContent = messageOf(err);
  }
}

start(async () => {
  /** @type {StyleList} */
  const { styles } = await api('/api/styles');
  styleSelect(select('styleA'), styles, 'pencil');
  styleSelect(select('styleB'), styles, 'cartoon');
  /** @type {LabCompared | null} */
  let current = null;
  byId('compare').addEventListener('click', async () => {
    current = (await compare()) ?? current;
  });
  // The wipe: A covers B up to the slider.
  const wipe = () => {
    byId('wipeA').style.width = `${input('slider').value}%`;
    image('imgA').style.width = `${byId('wipe').clientWidth}px`;
  };
  input('slider').addEventListener('input', wipe);
  image('imgB').addEventListener('load', wipe);
  for (const b of document.querySelectorAll('[data-choice]'))
    if (b instanceof HTMLElement)
      b.addEventListener('click', () =>
        current === null ? undefined : judge(current, b.dataset.choice ?? ''),
      );
});
