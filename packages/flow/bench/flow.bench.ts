// Accuracy and speed of our DIS next to OpenCV's DISOpticalFlow (Debian python3-opencv 4.6, one
// thread; bench/opencv_dis.py), same presets, same 640x360 frames, same run. Accuracy: end-point
// error against the true flow of real frames warped by known flows, and the photometric error of
// the warp on real consecutive pairs (ground truth unknown). Speed: what a video costs per frame,
// ours one prepare (the new frame) and one calc timed with tinybench on one thread, OpenCV's one
// calc (which builds both frames' pyramids); both as medians (this machine's speed wanders).
// Usage: bun packages/flow/bench/flow.bench.ts   (needs ../shared/media and apt-get install python3-opencv)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DisFlow, type DisPreset, warpPlane } from '@framecraft/flow';
import { Bench } from 'tinybench';

const media = join(import.meta.dir, '../../../../shared/media');
if (!existsSync(join(media, 'flower.mp4'))) {
  console.log(`${media}/flower.mp4 not found: this benchmark needs the real clips`);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'framecraft-flow-bench-'));
const py = spawnSync('/usr/bin/python3', [join(import.meta.dir, 'opencv_dis.py'), media, dir], {
  stdio: 'inherit',
});
if (py.status !== 0) {
  console.log('OpenCV baseline failed (apt-get install python3-opencv python3-numpy)');
  process.exit(1);
}
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as {
  width: number;
  height: number;
  keys: string[];
  ms: Record<string, number>;
};
const { width: w, height: h } = meta;
const bytes = (f: string) => new Uint8Array(readFileSync(join(dir, f)));
const floats = (f: string) => {
  const b = readFileSync(join(dir, f));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

/** Mean end-point error of a flow against the truth, 16-pixel border left out. */
function epe(flow: Float32Array, truth: Float32Array): number {
  let sum = 0;
  let n = 0;
  for (let y = 16; y < h - 16; y++)
    for (let x = 16; x < w - 16; x++) {
      const i = 2 * (y * w + x);
      sum += Math.hypot(flow[i]! - truth[i]!, flow[i + 1]! - truth[i + 1]!);
      n++;
    }
  return sum / n;
}

/** Mean |a − b warped by the flow|: how well the flow lines the pair up. */
function photometric(a: Uint8Array, b: Uint8Array, flow: Float32Array): number {
  const warped = warpPlane({ data: b, width: w, height: h }, flow, new Float32Array(w * h));
  let sum = 0;
  for (let i = 0; i < w * h; i++) sum += Math.abs(a[i]! - warped[i]!);
  return sum / (w * h);
}

const rows: Record<string, string>[] = [];
for (const preset of ['ultrafast', 'fast', 'medium'] as DisPreset[]) {
  const dis = DisFlow.create({ preset });
  for (const key of meta.keys) {
    const a = bytes(`${key}.a.raw`);
    const b = bytes(`${key}.b.raw`);
    const pa = dis.prepare({ data: a, width: w, height: h });
    const pb = dis.prepare({ data: b, width: w, height: h });
    const out = new Float32Array(2 * w * h);
    dis.calc(pa, pb, out);
    const cv = floats(`${key}.cv-${preset}.raw`);
    const real = key.endsWith('-real');
    const [ours, theirs] = real
      ? [photometric(a, b, out), photometric(a, b, cv)]
      : [epe(out, floats(`${key}.gt.raw`)), epe(cv, floats(`${key}.gt.raw`))];
    const bench = new Bench({ time: 400, warmupTime: 100 });
    // Per video frame: the new frame prepared, then the pair (OpenCV's calc builds both pyramids).
    bench.add('prepare + calc', () => {
      dis.prepare({ data: b, width: w, height: h }, pb);
      dis.calc(pa, pb, out);
    });
    await bench.run();
    const r = bench.tasks[0]!.result;
    const ms = r?.state === 'completed' ? r.latency.p50 : Number.NaN;
    const cvMs = meta.ms[`${key}/${preset}`]!;
    rows.push({
      preset,
      pair: key,
      measure: real ? 'photometric error' : 'EPE (px)',
      ours: ours.toFixed(3),
      OpenCV: theirs.toFixed(3),
      'error ours/OpenCV': (ours / theirs).toFixed(2),
      'ms ours': ms.toFixed(2),
      'ms OpenCV': cvMs.toFixed(2),
      'speed vs OpenCV': `${(cvMs / ms).toFixed(2)}x`,
    });
  }
}
console.table(rows);
rmSync(dir, { recursive: true, force: true });
