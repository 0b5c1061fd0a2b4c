import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { rgbBytes } from '@framecraft/color';
import type { Frame } from '@framecraft/core';
import sharp from 'sharp';

/** One picture of a contact sheet. */
export interface SheetTile {
  readonly frame: Frame;
  readonly label: string;
  /** The frame's display rotation (`VideoStreamInfo.rotation`): the tile is shown as players show it. */
  readonly rotation?: number;
}

const escapeXml = (s: string): string =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

async function tile(t: SheetTile, width: number): Promise<{ png: Buffer; height: number }> {
  const f = t.frame;
  // A rotation of 90 is shown turned counter-clockwise (FFmpeg's convention: ffplay and ffmpeg's
  // autorotate show a file our writer tagged 90 that way); sharp turns clockwise.
  const turn = (((-(t.rotation ?? 0) % 360) + 360) % 360) as number;
  const sideways = turn === 90 || turn === 270;
  const [shownW, shownH] = sideways ? [f.height, f.width] : [f.width, f.height];
  const h = Math.max(1, Math.round((width * shownH) / shownW));
  const svg = `<svg width="${width}" height="${h}"><rect x="0" y="${h - 22}" width="${width}" height="22" fill="black" fill-opacity="0.55"/><text x="6" y="${h - 6}" font-family="sans-serif" font-size="14" fill="white">${escapeXml(t.label)}</text></svg>`;
  const png = await sharp(rgbBytes(f), { raw: { width: f.width, height: f.height, channels: 3 } })
    .rotate(turn)
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
