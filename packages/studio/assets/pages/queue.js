// @ts-check
// The queue: every job with its state and progress, live from server-sent events; cancel, retry,
// and a finished render's video with its per-frame metric charts.
import { api, byId, duration, el, lineChart, messageOf, start } from './common.js';

/** @typedef {import('../../src/api.ts').QueuedJob} QueuedJob */
/** @typedef {import('../../src/api.ts').JobList} JobList */
/** @typedef {import('../../src/api.ts').MetricsFrames} MetricsFrames */

/** Metrics charted for a finished render, when its log has them. */
const CHARTED = ['ssim', 'sharpness', 'temporal_consistency', 'warping_error'];

/**
 * Play a finished render and chart its metrics.
 *
 * @param {QueuedJob} job
 */
async function openResult(job) {
  byId('result').hidden = false;
  byId('resultTitle').textContent = job.job.output;
  const player = byId('player');
  if (player instanceof HTMLVideoElement) player.src = `/api/file?path=${encodeURIComponent(job.job.output)}`;
  byId('charts').replaceChildren();
  try {
    /** @type {MetricsFrames} */
    const { frames } = await api(`/api/metrics?output=${encodeURIComponent(job.job.output)}`);
    for (const key of CHARTED) {
      /** @type {[number, number][]} */
      const pts = [];
      for (const f of frames) {
        const value = f[key];
        if (typeof value === 'number') pts.push([f.frame_idx, value]);
      }
      if (pts.length > 0) byId('charts').append(lineChart(pts, { label: `${key} per frame`, height: 160 }));
    }
  } catch (err) {
    byId('charts').append(el('p', {}, messageOf(err)));
  }
}

/**
 * The buttons a job's state allows.
 *
 * @param {QueuedJob} job
 */
function actions(job) {
  const cell = el('td');
  /** @param {string} label @param {() => unknown} onClick @param {Record<string, string>} [attrs] */
  const button = (label, onClick, attrs = {}) => {
    const b = el('button', { type: 'button', ...attrs }, label);
    b.addEventListener('click', onClick);
    cell.append(b);
  };
  if (job.state === 'running' || job.state === 'queued')
    button('Cancel', () => api(`/api/jobs/${job.id}/cancel`, {}));
  if (job.state === 'failed' || job.state === 'canceled')
    button('Retry', () => api(`/api/jobs/${job.id}/retry`, {}));
  if (job.state === 'done') button('Open', () => openResult(job), { class: 'open' });
  return cell;
}

/**
 * A job's table row.
 *
 * @param {QueuedJob} job
 */
function row(job) {
  const p = job.progress;
  const pct =
    job.state === 'done'
      ? 100
      : p && p.totalFrames > 0
        ? Math.round((100 * p.framesDone) / p.totalFrames)
        : 0;
  return el(
    'tr',
    { 'data-job': job.id },
    el('td', {}, job.job.output.split('/').pop() ?? ''),
    el('td', {}, job.job.style),
    el(
      'td',
      { class: `state-${job.state}` },
      job.state +
        (job.resumed > 0 ? ' (resumed after a restart)' : '') +
        (job.error ? ` — ${job.error.message}` : ''),
    ),
    el('td', {}, el('progress', { max: '100', value: String(pct) }), ` ${pct} %`),
    el('td', {}, p ? p.fps.toFixed(1) : '–'),
    el('td', {}, job.state === 'running' ? duration(p?.etaSeconds) : '–'),
    actions(job),
  );
}

start(async () => {
  /** @type {Map<string, HTMLTableRowElement>} */
  const rows = new Map();
  const show = (/** @type {QueuedJob} */ job) => {
    const tr = row(job);
    const old = rows.get(job.id);
    if (old) old.replaceWith(tr);
    else byId('jobs').prepend(tr);
    rows.set(job.id, tr);
  };
  api('/api/jobs').then(
    (/** @type {JobList} */ { target }) => {
      byId('target').textContent = `Renders run on ${target}.`;
    },
    () => undefined,
  );
  const events = new EventSource('/api/events');
  events.addEventListener('jobs', (e) => {
    /** @type {QueuedJob[]} */
    const jobs = JSON.parse(e.data);
    for (const job of jobs) show(job);
  });
  events.addEventListener('job', (e) => show(JSON.parse(e.data)));
});
