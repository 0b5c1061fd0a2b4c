// MP4 / QuickTime boxes: finding them in a file and in a loaded box, and writing a box header.
import type { FileHandle } from 'node:fs/promises';
import { MediaFileError } from './errors.ts';
import { readAt } from './read-at.ts';

/** Box types an MP4 or QuickTime file starts with. */
export const MP4_TOP: ReadonlySet<string> = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot']);

export interface Box {
  readonly type: string;
  /** Offset of the box's first byte. */
  readonly start: number;
  /** Offset of its payload. */
  readonly body: number;
  /** Offset just past it. */
  readonly end: number;
}

/**
 * The box whose header starts at `h[at]` (file offset `p`), within `limit`. Null when fewer than 16
 * header bytes are there for a 64-bit size.
 */
function boxAt(
  h: Buffer,
  at: number,
  p: number,
  limit: number,
  file: string,
  parent = 'its parent',
): Box | null {
  let size = h.readUInt32BE(at);
  const type = h.toString('latin1', at + 4, at + 8);
  let body = p + 8;
  if (size === 1) {
    if (at + 16 > h.length) return null;
    size = Number(h.readBigUInt64BE(at + 8));
    body = p + 16;
  } else if (size === 0) size = limit - p;
  if (size < body - p || p + size > limit)
    throw new MediaFileError('ERR_READ_CHAPTERS', file, `the ${type} box at ${p} runs past ${parent}`);
  return { type, start: p, body, end: p + size };
}

/** The boxes of `buf[from, to)` (an in-memory moov or one of its children). */
export function boxesIn(buf: Buffer, from: number, to: number, file: string): Box[] {
  const out: Box[] = [];
  for (let p = from; p + 8 <= to; ) {
    const box = boxAt(buf.subarray(0, to), p, p, to, file);
    if (box === null) break;
    out.push(box);
    p = box.end;
  }
  return out;
}

export const child = (buf: Buffer, box: Box, type: string, file: string): Box | undefined =>
  boxesIn(buf, box.body, box.end, file).find((b) => b.type === type);

/** The path of boxes below `box`, or undefined when one is missing. */
export function descend(buf: Buffer, box: Box, path: readonly string[], file: string): Box | undefined {
  let cur: Box | undefined = box;
  for (const t of path) {
    if (cur === undefined) return undefined;
    cur = child(buf, cur, t, file);
  }
  return cur;
}

/** The top-level boxes of an MP4 file, read header by header. */
export async function topBoxes(fh: FileHandle, size: number, file: string): Promise<Box[]> {
  const out: Box[] = [];
  for (let p = 0; p + 8 <= size; ) {
    const box = boxAt(await readAt(fh, p, 16), 0, p, size, file, 'the end of the file');
    if (box === null) break;
    out.push(box);
    p = box.end;
  }
  return out;
}

/** An 8-byte box header: size (header included) and type. */
export function boxHead(type: string, bodyLength: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + bodyLength, 0);
  h.write(type, 4, 'latin1');
  return h;
}
