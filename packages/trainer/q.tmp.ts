import { pairsFromStyle, scoreAgainstStyle, trainModel } from './src/index.ts';

const clip = process.env.CLIP ?? '/tmp/tr/clip.mp4';
const style = 'cartoon';
const frames = (process.env.FRAMES ?? '0,10,20,30,40,50').split(',').map(Number);
const unseen = frames.map((f) => f + 5);
const pairs = await pairsFromStyle({ clip, style, frames, dir: `/tmp/tr/q-pairs-${Date.now()}` });
let model = '';
const t0 = performance.now();
for await (const e of trainModel({
  pairs,
  mode: 'student',
  workDir: `/tmp/tr/q-${Date.now()}`,
  steps: Number(process.env.STEPS ?? 600),
  batch: 4,
  crop: Number(process.env.CROP ?? 96),
  validationShare: 0,
}))
  if (e.type === 'exported') model = e.model;
const sc = await scoreAgainstStyle({ model, clip, style, frames: unseen });
console.log(style, 'SSIM', sc.ssim.toFixed(4), 'train s', ((performance.now() - t0) / 1000).toFixed(0));
