import { LutParseError } from './errors.ts';

/** A 1D LUT: `size` entries of R, G, B, applied per channel. */
export interface Lut1D {
  readonly kind: '1d';
  readonly size: number;
  readonly domainMin: readonly [number, number, number];
  readonly domainMax: readonly [number, number, number];
  /** `size × 3` values, entry by entry (R, G, B). */
  readonly data: Float32Array;
}

/** A 3D LUT: a `size³` lattice of output R, G, B, red varying fastest (the .cube order). */
export interface Lut3D {
  readonly kind: '3d';
  readonly size: number;
  readonly domainMin: readonly [number, number, number];
  readonly domainMax: readonly [number, number, number];
  /** `size³ × 3` values; entry (r, g, b) starts at `3 · (r + size · (g + size · b))`. */
  readonly data: Float32Array;
}

/** What a .cube file holds: a 1D LUT, a 3D LUT, or both (a 1D shaper applied first, as Resolve writes). */
export interface CubeFile {
  readonly title: string | null;
  readonly lut1d: Lut1D | null;
  readonly lut3d: Lut3D | null;
}

/** Options of {@link parseCube}. */
export interface ParseCubeOptions {
  /** Name used in error messages; `"<string>"` by default. */
  readonly file?: string;
}

/** Largest 3D size accepted (256³ entries is 201 MB of float32). */
export const MAX_3D_SIZE = 256;
/** Largest 1D size accepted. */
export const MAX_1D_SIZE = 65536;

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

interface Cursor {
  readonly file: string;
  line: number;
}

function fail(c: Cursor, column: number, problem: string): never {
  throw new LutParseError(c.file, c.line, column, problem);
}

/** Split a line into tokens with their 1-based columns. */
function tokens(text: string): { value: string; column: number }[] {
  const out: { value: string; column: number }[] = [];
  const re = /\S+/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push({ value: m[0], column: m.index + 1 });
  return out;
}

function parseNumber(c: Cursor, t: { value: string; column: number }, what: string): number {
  if (!NUMBER.test(t.value)) fail(c, t.column, `expected a number for ${what}, found "${t.value}"`);
  return Number(t.value);
}

function parseSize(
  c: Cursor,
  t: { value: string; column: number } | undefined,
  keyword: string,
  max: number,
): number {
  if (t === undefined) fail(c, 0, `${keyword} needs a size`);
  if (!/^\d+$/.test(t.value))
    fail(c, t.column, `expected an integer size for ${keyword}, found "${t.value}"`);
  const n = Number(t.value);
  if (n < 2 || n > max) fail(c, t.column, `${keyword} ${n} is outside the supported range 2–${max}`);
  return n;
}

function triple(
  c: Cursor,
  parts: { value: string; column: number }[],
  keyword: string,
): [number, number, number] {
  if (parts.length !== 4) fail(c, 0, `${keyword} needs three numbers, found ${parts.length - 1}`);
  return [
    parseNumber(c, parts[1]!, `${keyword} red`),
    parseNumber(c, parts[2]!, `${keyword} green`),
    parseNumber(c, parts[3]!, `${keyword} blue`),
  ];
}

/**
 * Parse a .cube LUT (Adobe Cube LUT 1.0 and Resolve's variant): TITLE, LUT_1D_SIZE, LUT_3D_SIZE,
 * DOMAIN_MIN, DOMAIN_MAX, LUT_1D_INPUT_RANGE / LUT_3D_INPUT_RANGE, comments, blank lines, CRLF.
 *
 * @param text - The file's contents.
 * @param options - A file name for error messages.
 * @returns The LUT(s) in the file.
 * @throws {LutParseError} With the line and column of the first problem: a missing or out-of-range
 *   size, a non-number (NaN, text), a row without three numbers, the wrong number of rows, an
 *   unknown keyword, or a keyword after the data.
 * @example
 * ```ts
 * const { lut3d } = parseCube(await Bun.file('grade.cube').text(), { file: 'grade.cube' })
 * console.log(lut3d?.size) // 33
 * ```
 */
export function parseCube(text: string, options: ParseCubeOptions = {}): CubeFile {
  const c: Cursor = { file: options.file ?? '<string>', line: 0 };
  let title: string | null = null;
  let size1 = 0;
  let size3 = 0;
  let dmin: [number, number, number] = [0, 0, 0];
  let dmax: [number, number, number] = [1, 1, 1];
  let range1: [number, number] | null = null;
  let range3: [number, number] | null = null;
  let data1: Float32Array | null = null;
  let data3: Float32Array | null = null;
  let rows = 0;
  let expected = 0;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    c.line++;
    let line = text.slice(pos, end);
    pos = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const first = trimmed.charCodeAt(0);
    const isData = (first >= 48 && first <= 57) || first === 45 || first === 43 || first === 46;
    if (!isData) {
      if (rows > 0) fail(c, 1, `keyword "${trimmed.split(/\s/)[0]}" after the LUT data`);
      const parts = tokens(line);
      const keyword = parts[0]!.value;
      switch (keyword) {
        case 'TITLE': {
          const m = /^\s*TITLE\s+"(.*)"\s*$/.exec(line) ?? /^\s*TITLE\s+(.*?)\s*$/.exec(line);
          title = m?.[1] ?? '';
          break;
        }
        case 'LUT_1D_SIZE':
          size1 = parseSize(c, parts[1], keyword, MAX_1D_SIZE);
          break;
        case 'LUT_3D_SIZE':
          size3 = parseSize(c, parts[1], keyword, MAX_3D_SIZE);
          break;
        case 'DOMAIN_MIN':
          dmin = triple(c, parts, keyword);
          break;
        case 'DOMAIN_MAX':
          dmax = triple(c, parts, keyword);
          break;
        case 'LUT_1D_INPUT_RANGE':
        case 'LUT_3D_INPUT_RANGE': {
          if (parts.length !== 3) fail(c, 0, `${keyword} needs two numbers, found ${parts.length - 1}`);
          const r: [number, number] = [
            parseNumber(c, parts[1]!, `${keyword} min`),
            parseNumber(c, parts[2]!, `${keyword} max`),
          ];
          if (keyword === 'LUT_1D_INPUT_RANGE') range1 = r;
          else range3 = r;
          break;
        }
        default:
          fail(
            c,
            1,
            `unknown keyword "${keyword}" (expected TITLE, LUT_1D_SIZE, LUT_3D_SIZE, DOMAIN_MIN, DOMAIN_MAX or data)`,
          );
      }
      continue;
    }
    if (rows === 0) {
      if (size1 === 0 && size3 === 0)
        fail(c, 1, 'data before LUT_3D_SIZE or LUT_1D_SIZE: the size is missing');
      if (size1 > 0) data1 = new Float32Array(size1 * 3);
      if (size3 > 0) data3 = new Float32Array(size3 * size3 * size3 * 3);
      expected = size1 + size3 * size3 * size3;
    }
    if (rows >= expected)
      fail(c, 1, `more rows than the ${describeSizes(size1, size3)} declares (${expected})`);
    const parts = tokens(line);
    if (parts.length !== 3)
      fail(c, parts[3]?.column ?? 0, `expected 3 numbers (R G B), found ${parts.length}`);
    const target = rows < size1 ? data1! : data3!;
    const o = (rows < size1 ? rows : rows - size1) * 3;
    for (let k = 0; k < 3; k++) {
      const v = parseNumber(c, parts[k]!, ['red', 'green', 'blue'][k]!);
      target[o + k] = v;
    }
    rows++;
  }
  if (size1 === 0 && size3 === 0)
    fail({ ...c, line: 0 }, 0, 'no LUT_3D_SIZE or LUT_1D_SIZE: not a .cube LUT');
  if (rows !== expected) {
    fail(
      { ...c, line: 0 },
      0,
      `the ${describeSizes(size1, size3)} needs ${expected} rows of data, found ${rows} (the file is truncated or the size is wrong)`,
    );
  }
  for (let k = 0; k < 3; k++) {
    if (!(dmax[k]! > dmin[k]!))
      fail({ ...c, line: 0 }, 0, 'DOMAIN_MAX must be greater than DOMAIN_MIN in every channel');
  }
  const domain = (
    r: [number, number] | null,
  ): { min: [number, number, number]; max: [number, number, number] } =>
    r ? { min: [r[0], r[0], r[0]], max: [r[1], r[1], r[1]] } : { min: dmin, max: dmax };
  const d1 = domain(range1);
  const d3 = domain(range3);
  return {
    title,
    lut1d: data1 ? { kind: '1d', size: size1, domainMin: d1.min, domainMax: d1.max, data: data1 } : null,
    lut3d: data3 ? { kind: '3d', size: size3, domainMin: d3.min, domainMax: d3.max, data: data3 } : null,
  };
}

function describeSizes(size1: number, size3: number): string {
  if (size1 && size3) return `LUT_1D_SIZE ${size1} + LUT_3D_SIZE ${size3}`;
  return size3 ? `LUT_3D_SIZE ${size3}` : `LUT_1D_SIZE ${size1}`;
}

function num(v: number): string {
  // Six decimals keep 16-bit precision and match what Resolve and FFmpeg write.
  const s = v.toFixed(6);
  return s === '-0.000000' ? '0.000000' : s;
}

/**
 * Write LUTs as .cube text (LF line ends, six decimals).
 *
 * @param cube - A title and a 1D and/or 3D LUT.
 * @returns The file's contents.
 */
export function writeCube(cube: {
  readonly title?: string | null;
  readonly lut1d?: Lut1D | null;
  readonly lut3d?: Lut3D | null;
}): string {
  const lines: string[] = [];
  if (cube.title) lines.push(`TITLE "${cube.title.replace(/"/g, "'")}"`);
  const lut = cube.lut3d ?? cube.lut1d;
  if (!lut) throw new TypeError('Expected a 1D or 3D LUT for cube but received neither');
  if (lut.domainMin.some((v) => v !== 0) || lut.domainMax.some((v) => v !== 1)) {
    lines.push(
      `DOMAIN_MIN ${lut.domainMin.map(num).join(' ')}`,
      `DOMAIN_MAX ${lut.domainMax.map(num).join(' ')}`,
    );
  }
  if (cube.lut1d) lines.push(`LUT_1D_SIZE ${cube.lut1d.size}`);
  if (cube.lut3d) lines.push(`LUT_3D_SIZE ${cube.lut3d.size}`);
  const out = [`${lines.join('\n')}\n`];
  for (const l of [cube.lut1d, cube.lut3d]) {
    if (!l) continue;
    const d = l.data;
    const chunk: string[] = [];
    for (let i = 0; i < d.length; i += 3) chunk.push(`${num(d[i]!)} ${num(d[i + 1]!)} ${num(d[i + 2]!)}`);
    out.push(`${chunk.join('\n')}\n`);
  }
  return out.join('');
}
