// Render a clip with per-frame metrics on, then print them as a table and draw a PNG chart of
// SSIM, edge coherence and temporal consistency over the frames (SVG rendered by sharp).
// Usage: bun examples/metrics-report/index.ts <in> <out.mp4> [style]
import { readFile } from 'node:fs/promises';
import type { FrameRecord } from '@framecraft/metrics';
import { render } from '@framecraft/pipeline';
import sharp from 'sharp';

const [input, output, style = 'cartoon'] = process.argv.slice(2);
if (input === undefined || output === undefined) {
  console.error('Usage: bun examples/metrics-report/index.ts <in> <out.mp4> [style]');
  process.exit(2);
}
const result = await render(
  { input, output, style, encoderPreset: 'veryfast', metrics: { enabled: true } },
  { overwrite: true },
);
const log = result.metrics!.log;
const records = (await readFile(log, 'utf8'))
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as FrameRecord);

// The summary as a table.
const summary = result.metrics!.summary;
console.table(
  Object.fromEntries(
    Object.entries(summary.metrics).map(([k, s]) => [
      k,
      { mean: +s.mean.toFixed(4), p5: +s.p5.toFixed(4), p50: +s.p50.toFixed(4), p95: +s.p95.toFixed(4) },
    ]),
  ),
);
console.log(`global flicker (output / input): ${summary.global_flicker.toFixed(3)}`);

// A line chart: one polyline per metric, all on [0, 1] (temporal consistency scaled by 1/32).
const W = 800;
const H = 300;
const pad = 40;
const series: [string, string, (r: FrameRecord) => number | undefined][] = [
  ['ssim', '#2a9d8f', (r) => r.ssim],
  ['edge_coherence', '#e76f51', (r) => r.edge_coherence],
  [
    'temporal_consistency / 32',
    '#264653',
    (r) => (r.temporal_consistency === undefined ? undefined : r.temporal_consistency / 32),
  ],
];
const x = (i: number): number => pad + (i / Math.max(1, records.length - 1)) * (W - 2 * pad);
const y = (v: number): number => H - pad - Math.max(0, Math.min(1, v)) * (H - 2 * pad);
const lines = series.map(([name, color, get], k) => {
  const pts = records.flatMap((r, i) => {
    const v = get(r);
    return v === undefined ? [] : [`${x(i).toFixed(1)},${y(v).toFixed(1)}`];
  });
  return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/><text x="${pad + k * 240}" y="20" font-family="sans-serif" font-size="14" fill="${color}">${name}</text>`;
});
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="white"/><line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#999"/><text x="${W / 2}" y="${H - 10}" font-family="sans-serif" font-size="12">frame</text>${lines.join('')}</svg>`;
const chart = output.replace(/\.[^.]+$/, '.metrics.png');
await sharp(Buffer.from(svg)).png().toFile(chart);
console.log(`${records.length} frames measured; log ${log}; chart ${chart}`);
