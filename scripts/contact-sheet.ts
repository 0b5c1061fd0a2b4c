// Renders a contact sheet: for each real clip in ../shared/media, a few frames, the original next to
// every registered style, labelled, as one PNG (through sharp). Look at it as a viewer would.
// Usage: bun scripts/contact-sheet.ts [out.png] [--width 320]
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Frame } from '@framecraft/core';
import { VideoReader } from '@framecraft/io';
import { getStylizer, listStylizers, parseStylizerOptions } from '@framecraft/stylizers';
import sharp from 'sharp';

const args = process.argv.slice(2);
const out = args.find((a) => a.endsWith('.png')) ?? join('demo-output', 'contact-sheet.png');
const tileW = Number(args[args.indexOf('--width') + 1] ?? 320) || 320;
const media = join(import.meta.dir, '../../shared/media');
const clips = ['flower.mp4', 'friday.mp4', 'car-detection.mp4'].map((c) => join(media, c)).filter(existsSync);
if (clips.length === 0) {
  console.error(`No clips in ${media}: the contact sheet needs the real footage.`);
  process.exit(1);
}
const styles = listStylizers().filter((s) => s !== 'identity');

/** Tight RGB bytes of a frame (gray8 is expanded to grey RGB). */
function rgbBytes(f: Frame): Buffer {
  const p = f.planes[0]!;
  const comps = f.format === 'gray8' ? 1 : 3;
  const buf = Buffer.alloc(f.width * f.height * 3);
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) {
      const s = y * p.stride + x * comps;
      const d = (y * f.width + x) * 3;
      buf[d] = p.data[s]!;
      buf[d + 1] = p.data[s + (comps === 3 ? 1 : 0)]!;
      buf[d + 2] = p.data[s + (comps === 3 ? 2 : 0)]!;
    }
  }
  return buf;
}

async function tile(f: Frame, label: string): Promise<Buffer> {
  const h = Math.round((tileW * f.height) / f.width);
  const svg = `<svg width="${tileW}" height="${h}"><rect x="0" y="${h - 22}" width="${tileW}" height="22" fill="black" fill-opacity="0.55"/><text x="6" y="${h - 6}" font-family="sans-serif" font-size="14" fill="white">${label}</text></svg>`;
  return sharp(rgbBytes(f), { raw: { width: f.width, height: f.height, channels: 3 } })
    .resize(tileW, h)
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
}

const rows: Buffer[][] = [];
const heights: number[] = [];
for (const clip of clips) {
  await using reader = await VideoReader.open(clip);
  const total = (await reader.frameTimestamps()).length;
  const name = clip.split('/').pop()!;
  for (const at of [0.3, 0.7].map((p) => Math.floor(total * p))) {
    const rgb = await reader.frameAt({ frame: at }, 'rgb24');
    const row = [await tile(rgb, `${name} #${at} original`)];
    for (const styleName of styles) {
      const style = getStylizer(styleName);
      const input =
        style.inputFormat === 'rgb24' ? rgb : await reader.frameAt({ frame: at }, style.inputFormat);
      const instance = await style.create(parseStylizerOptions(style), {
        width: rgb.width,
        height: rgb.height,
        seed: 1,
      });
      const t0 = performance.now();
      const styled = await instance.process(input);
      const ms = performance.now() - t0;
      instance.dispose();
      const shown = styled.format === 'yuv420p' ? rgb : styled;
      row.push(await tile(shown, `${styleName} (${ms.toFixed(0)} ms)`));
    }
    rows.push(row);
    heights.push(Math.round((tileW * rgb.height) / rgb.width));
  }
}
const width = tileW * (styles.length + 1);
const height = heights.reduce((s, h) => s + h, 0);
const composites: sharp.OverlayOptions[] = [];
let top = 0;
for (const [r, row] of rows.entries()) {
  for (const [c, input] of row.entries()) composites.push({ input, top, left: c * tileW });
  top += heights[r]!;
}
await mkdir(dirname(out), { recursive: true });
await sharp({ create: { width, height, channels: 3, background: { r: 20, g: 20, b: 20 } } })
  .composite(composites)
  .png()
  .toFile(out);
console.log(`wrote ${out} (${width}x${height}, ${rows.length} frames × ${styles.length + 1} columns)`);
