// Renders a contact sheet: for each real clip in ../shared/media, a few frames, the original next to
// every registered style, labelled, as one PNG (through sharp). Look at it as a viewer would.
// Usage: bun scripts/contact-sheet.ts [out.png] [--width 320]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type SheetTile, writeContactSheet } from '@framecraft/cli';
import { VideoReader } from '@framecraft/io';
import { getStylizer, listStylizers, parseStylizerOptions } from '@framecraft/stylizers';

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

const rows: SheetTile[][] = [];
for (const clip of clips) {
  await using reader = await VideoReader.open(clip);
  const total = (await reader.frameTimestamps()).length;
  const name = clip.split('/').pop()!;
  for (const at of [0.3, 0.7].map((p) => Math.floor(total * p))) {
    const rgb = await reader.frameAt({ frame: at }, 'rgb24');
    const row: SheetTile[] = [{ frame: rgb, label: `${name} #${at} original` }];
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
      row.push({ frame: styled, label: `${styleName} (${ms.toFixed(0)} ms)` });
    }
    rows.push(row);
  }
}
const { width, height } = await writeContactSheet(rows, out, tileW);
console.log(`wrote ${out} (${width}x${height}, ${rows.length} frames × ${styles.length + 1} columns)`);
