const t0 = performance.now();
const av = await import('node-av');
const t1 = performance.now();
const io = await import('@framecraft/io');
const t2 = performance.now();
const r = await io.VideoReader.open(process.argv[2]!);
const t3 = performance.now();
let n = 0;
for await (const f of r.frames()) {
  if (n++ === 0) console.log('first frame', performance.now() - t3);
}
const t4 = performance.now();
console.log({ nodeAv: t1 - t0, io: t2 - t1, open: t3 - t2, loop: t4 - t3, n });
void av;
