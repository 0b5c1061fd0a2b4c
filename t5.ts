import { transcode, probe, hardwareInfo } from '@framecraft/io';
const t0 = performance.now();
const r = await transcode('/work/shared/media/flower.mp4', '/tmp/out-flower.mp4', { preset: 'veryfast', onFallback: (e) => console.log('FALLBACK', e) });
console.log(r, (performance.now() - t0));
const p = await probe('/tmp/out-flower.mp4');
console.log(p.streams.map((s) => [s.type, s.codec, s.duration, s.startTime, (s as any).frameCount, (s as any).color]));
const h = await hardwareInfo(); console.log(h.hwaccels, h.hardwareEncoders, h.gpuNote, h.nvenc);
