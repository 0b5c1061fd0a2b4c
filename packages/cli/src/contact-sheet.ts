import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { yuvToRgb24 } from '@framecraft/color';
import type { Frame } from '@framecraft/core';
import sharp from 'sharp';

/** One picture of a contact sheet. */
export interface SheetTile {
  readonly frame: Frame;
  readonly label: string;
}

/** Tight RGB bytes of a gray8, 8-bit YUV or rgb24 frame. */
function rgbBytes(frame: Frame): Buffer {
  const f = frame.format === 'rgb24' || frame.format === 'gray8' ? frame : yuvToRgb24(frame);
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

const escapeXml = (s: string): string =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

async function tile(t: SheetTile, width: number): Promise<{ png: Buffer; height: number }> {
  const f = t.frame;
  const h = Math.round((width * f.height) / f.width);
  const svg = `<svg width="${width}" height="${h}"><rect x="0" y="${h - 22}" width="${width}" height="22" fill="black" fill-opacity="0.55"/><text x="6" y="${h - 6}" font-family="sans-serif" font-size="14" fill="white">${escapeXml(t.label)}</text></svg>`;
  const png = await sharp(rgbBytes(f), { raw: { width: f.width, height: f.height, channels: 3 } })
    .resize(width, h)
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
  return { png, height: h };
}

/**
 * Write a contact sheet: rows of labelled frames, each scaled to `tileWidth`, as one PNG (sharp).
 *
 * @param rows - Rows of tiles (for example the original, then each style).
 * @param path - PNG path; its folder is created.
 * @param tileWidth - Width of each tile in pixels.
 * @returns The sheet's size.
 */
export async function writeContactSheet(
  rows: readonly (readonly SheetTile[])[],
  path: string,
  tileWidth = 320,
): Promise<{ width: number; height: number }> {
  const composites: sharp.OverlayOptions[] = [];
  let top = 0;
  let columns = 0;
  for (const row of rows) {
    let rowHeight = 0;
    for (const [c, t] of row.entries()) {
      const { png, height } = await tile(t, tileWidth);
      composites.push({ input: png, top, left: c * tileWidth });
      rowHeight = Math.max(rowHeight, height);
    }
    columns = Math.max(columns, row.length);
    top += rowHeight;
  }
  const width = Math.max(1, columns * tileWidth);
  const height = Math.max(1, top);
  await mkdir(dirname(path), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: 20, g: 20, b: 20 } } })
    .composite(composites)
    .png()
    .toFile(path);
  return { width, height };
}
