// EBML, Matroska's element syntax: the element IDs chapters need, reading headers and children,
// the segment and its SeekHead, and writing elements, sizes, unsigned integers and Void.
import type { FileHandle } from 'node:fs/promises';
import { readAt } from './read-at.ts';

const SEGMENT = 0x18538067;

export const SEEK_HEAD = 0x114d9b74;

export const SEEK = 0x4dbb;

export const SEEK_ID = 0x53ab;

export const SEEK_POSITION = 0x53ac;

export const CHAPTERS = 0x1043a770;

export const CLUSTER = 0x1f43b675;

export const EDITION = 0x45b9;

export const EDITION_DEFAULT = 0x45db;

export const ATOM = 0xb6;

export const TIME_START = 0x91;

export const TIME_END = 0x92;

export const FLAG_HIDDEN = 0x98;

export const FLAG_ENABLED = 0x4598;

export const DISPLAY = 0x80;

export const CHAP_STRING = 0x85;

export const VOID = 0xec;

export const EDITION_UID = 0x45bc;

export const CHAPTER_UID = 0x73c4;

export const CHAP_LANGUAGE = 0x437c;

interface Element {
  readonly id: number;
  /** Offset of the element's ID. */
  readonly start: number;
  /** Offset of the element's data. */
  readonly data: number;
  /** Data length; null when unknown (a live stream's open segment or cluster). */
  readonly size: number | null;
  /** Offset just past the element (data + size), or null when the size is unknown. */
  readonly end: number | null;
}

/** An EBML element header at `p` of `buf` (the ID keeps its length marker, as the specs write it). */
export function ebmlHeader(buf: Buffer, p: number): { id: number; size: number | null; len: number } | null {
  if (p >= buf.length) return null;
  const first = buf[p]!;
  const idLen = first >= 0x80 ? 1 : first >= 0x40 ? 2 : first >= 0x20 ? 3 : first >= 0x10 ? 4 : 0;
  if (idLen === 0 || p + idLen >= buf.length) return null;
  let id = 0;
  for (let i = 0; i < idLen; i++) id = id * 256 + buf[p + i]!;
  const s0 = buf[p + idLen]!;
  let sizeLen = 1;
  while (sizeLen <= 8 && (s0 & (0x80 >> (sizeLen - 1))) === 0) sizeLen++;
  if (sizeLen > 8 || p + idLen + sizeLen > buf.length) return null;
  let size = s0 & (0xff >> sizeLen);
  let allOnes = size === 0xff >> sizeLen;
  for (let i = 1; i < sizeLen; i++) {
    const b = buf[p + idLen + i]!;
    size = size * 256 + b;
    allOnes &&= b === 0xff;
  }
  return { id, size: allOnes ? null : size, len: idLen + sizeLen };
}

/** The children of `buf[from, to)`, parsed in memory. */
export function ebmlChildren(buf: Buffer, from: number, to: number): Element[] {
  const out: Element[] = [];
  for (let p = from; p < to; ) {
    const h = ebmlHeader(buf, p);
    if (h === null || h.size === null) break;
    const data = p + h.len;
    out.push({ id: h.id, start: p, data, size: h.size, end: data + h.size });
    p = data + h.size;
  }
  return out;
}

export const uint = (buf: Buffer, e: Element): number => {
  let v = 0;
  for (let i = 0; i < e.size!; i++) v = v * 256 + buf[e.data + i]!;
  return v;
};

/** The Segment after the EBML header: where its header is, its length, its data and size (null: unknown). */
export async function findSegment(
  fh: FileHandle,
  size: number,
): Promise<{ at: number; len: number; data: number; size: number | null } | null> {
  const ebml = ebmlHeader(await readAt(fh, 0, 12), 0);
  if (ebml === null || ebml.id !== 0x1a45dfa3 || ebml.size === null) return null;
  for (let p = ebml.len + ebml.size; p < size; ) {
    const h = ebmlHeader(await readAt(fh, p, 12), 0);
    if (h === null) return null;
    if (h.id === SEGMENT) return { at: p, len: h.len, data: p + h.len, size: h.size };
    if (h.size === null) return null;
    p += h.len + h.size;
  }
  return null;
}

/** The Seek entries of a SeekHead's data: the element ID and position each names (-1: absent), and its bytes. */
export function seekEntries(buf: Buffer): { id: number; position: number; bytes: Buffer }[] {
  return ebmlChildren(buf, 0, buf.length)
    .filter((e) => e.id === SEEK)
    .map((e) => {
      const kids = ebmlChildren(buf, e.data, e.end!);
      const id = kids.find((k) => k.id === SEEK_ID);
      const pos = kids.find((k) => k.id === SEEK_POSITION);
      return {
        id: id === undefined ? -1 : uint(buf, id),
        position: pos === undefined ? -1 : uint(buf, pos),
        bytes: buf.subarray(e.start, e.end!),
      };
    });
}

/** An EBML element: its ID bytes, its size (`sizeLength` bytes; the fewest by default), the data. */
export function ebmlElement(id: number, data: Buffer, sizeLength = 0): Buffer {
  const idLen = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const idBytes = Buffer.alloc(idLen);
  idBytes.writeUIntBE(id, 0, idLen);
  return Buffer.concat([idBytes, ebmlSize(data.length, sizeLength), data]);
}

/** A size as an EBML variable-length integer, `len` bytes (the shortest that holds it by default). */
export function ebmlSize(size: number, len = 0): Buffer {
  let n = len;
  if (n === 0) for (n = 1; n < 8 && size >= 2 ** (7 * n) - 1; n++);
  const out = Buffer.alloc(n);
  let v = size;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  out[0]! |= 0x80 >> (n - 1);
  return out;
}

/** An unsigned integer element's data, in as few bytes as it needs. */
export function ebmlUint(value: number): Buffer {
  const bytes: number[] = [];
  let v = Math.max(0, Math.round(value));
  do {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  return Buffer.from(bytes);
}

/** A Void element exactly `total` bytes long (at least 2). */
export function ebmlVoid(total: number): Buffer {
  const out = Buffer.alloc(total);
  out[0] = VOID;
  if (total - 2 <= 126) out[1] = 0x80 | (total - 2);
  else ebmlSize(total - 9, 8).copy(out, 1);
  return out;
}
