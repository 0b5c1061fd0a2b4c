// @ts-check
// The trainer: the approved pairs, a training run with its loss curve live, the held-out verdict,
// then promote or discard.
import { api, byId, el, input, lineChart, messageOf, select, start } from './common.js';

/** @typedef {import('../../src/api.ts').ModelList} ModelList */
/** @typedef {import('../../src/api.ts').FeedbackPairs} FeedbackPairs */
/** @typedef {import('../../src/api.ts').TrainingRun} TrainingRun */
/** @typedef {import('../../src/api.ts').TrainEvent} TrainEvent */

/**
 * The approved pairs as checkboxes with their images.
 *
 * @param {FeedbackPairs['pairs']} pairs
 */
function showPairs(pairs) {
  byId('pairs').replaceChildren(
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
}

/**
 * The held-out comparison of the new model with the current one.
 *
 * @param {Extract<TrainEvent, { type: 'evaluated' }>} ev
 */
function showVerdict(ev) {
  if (ev.candidate === null) {
    byId('verdictTable').replaceChildren(
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
    return;
  }
  /** @param {string} name @param {{ mse: number, ssim: number } | null} m */
  const row = (name, m) =>
    el(
      'tr',
      {},
      el('td', {}, name),
      el('td', {}, m ? m.mse.toFixed(2) : '–'),
      el('td', {}, m ? m.ssim.toFixed(4) : '–'),
    );
  byId('verdictTable').replaceChildren(
    el('tr', {}, el('th', {}, 'model'), el('th', {}, 'MSE'), el('th', {}, 'SSIM')),
    row('new', ev.candidate),
    row(`current ${ev.currentVersion ?? ''}`, ev.current),
  );
}

/**
 * Follow a run's events until it ends: the loss curve, the verdict, the final state.
 *
 * @param {TrainingRun} run
 * @param {(run: TrainingRun) => void} ended
 */
function follow(run, ended) {
  /** @type {[number, number][]} */
  const losses = [];
  const events = new EventSource(`/api/train/${run.id}/events`);
  events.addEventListener('train', (e) => {
    /** @type {TrainEvent} */
    const ev = JSON.parse(e.data);
    if (ev.type === 'step') {
      losses.push([ev.step, ev.loss]);
      byId('lossPlot').replaceChildren(...lineChart(losses, { label: 'training loss' }).childNodes);
      byId('trainStatus').textContent = `step ${ev.step}/${ev.steps}, loss ${ev.loss.toFixed(5)}`;
    }
    if (ev.type === 'evaluated') showVerdict(ev);
  });
  events.addEventListener('end', (e) => {
    events.close();
    /** @type {TrainingRun} */
    const done = JSON.parse(e.data);
    byId('trainStatus').textContent =
      done.state === 'trained' && done.candidate !== null
        ? `Trained: ${done.candidate.name}@${done.candidate.version}`
        : `${done.state}: ${done.error?.message ?? ''}`;
    byId('verdict').hidden = done.state !== 'trained';
    ended(done);
  });
}

start(async () => {
  /** @type {ModelList} */
  const { models, promoted } = await api('/api/models');
  select('trainBase').replaceChildren(
    ...[...new Set(models.map((m) => m.name))].map((n) =>
      el('option', { value: n }, `${n}${promoted[n] ? ` (${promoted[n]})` : ''}`),
    ),
  );
  /** @type {FeedbackPairs} */
  const { pairs } = await api('/api/feedback');
  showPairs(pairs);
  /** @type {TrainingRun | null} */
  let run = null;
  byId('trainStart').addEventListener('click', async () => {
    byId('verdict').hidden = true;
    try {
      const chosen = [...document.querySelectorAll('#pairs input:checked')].flatMap((i) =>
        i instanceof HTMLInputElement ? [i.value] : [],
      );
      /** @type {TrainingRun} */
      const started = await api('/api/train', {
        name: input('trainName').value,
        mode: select('trainMode').value,
        base: select('trainBase').value,
        steps: Number(input('trainSteps').value),
        pairs: chosen,
      });
      run = started;
    } catch (err) {
      byId('trainStatus').textContent = messageOf(err);
      return;
    }
    byId('trainStatus').textContent = `Training ${run.id}…`;
    follow(run, (done) => {
      run = done;
    });
  });
  for (const action of ['promote', 'discard'])
    byId(action).addEventListener('click', async () => {
      if (run === null) return;
      /** @type {TrainingRun} */
      const r = await api(`/api/train/${run.id}/${action}`, {});
      byId('trainStatus').textContent = `${r.candidate?.name}@${r.candidate?.version}: ${r.state}`;
      byId('verdict').hidden = true;
    });
});
