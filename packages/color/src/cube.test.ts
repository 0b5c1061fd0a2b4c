import { describe, expect, test } from 'bun:test';
import { FramecraftError } from '@framecraft/core';
import { parseCube, writeCube } from './cube.ts';
import type { LutParseError } from './errors.ts';
import { bakeLut3d } from './lut.ts';

const SMALL = `# made by hand
TITLE "Warm"

LUT_3D_SIZE 2
DOMAIN_MIN 0 0 0
DOMAIN_MAX 1 1 1
0 0 0
1 0 0
0 1 0
1 1 0
0 0 1
1 0 1
0 1 1
1 1 1
`;

function parseError(text: string): LutParseError {
  try {
    parseCube(text, { file: 'bad.cube' });
  } catch (err) {
    expect(FramecraftError.is(err, 'ERR_LUT_PARSE')).toBe(true);
    return err as LutParseError;
  }
  throw new Error('expected a parse error');
}

describe('parseCube', () => {
  test('reads title, size, domain and rows in red-fastest order', () => {
    const cube = parseCube(SMALL);
    expect(cube.title).toBe('Warm');
    expect(cube.lut1d).toBeNull();
    expect(cube.lut3d?.size).toBe(2);
    expect(Array.from(cube.lut3d!.data.subarray(3, 6))).toEqual([1, 0, 0]);
    expect(Array.from(cube.lut3d!.data.subarray(21, 24))).toEqual([1, 1, 1]);
  });

  test('accepts CRLF, comments, blank lines and trailing spaces', () => {
    const crlf = SMALL.replace(/\n/g, '  \r\n').replace('LUT_3D_SIZE 2', '# size next\r\n\r\nLUT_3D_SIZE 2');
    expect(parseCube(crlf).lut3d?.data).toEqual(parseCube(SMALL).lut3d!.data);
  });

  test('reads a 1D LUT, a Resolve shaper + 3D file and input ranges', () => {
    const oneD = parseCube('LUT_1D_SIZE 3\nLUT_1D_INPUT_RANGE 0 2\n0 0 0\n0.5 0.5 0.5\n1 1 1\n');
    expect(oneD.lut1d?.size).toBe(3);
    expect(oneD.lut1d?.domainMax).toEqual([2, 2, 2]);
    const both = parseCube(
      `LUT_1D_SIZE 2\nLUT_3D_SIZE 2\n0 0 0\n1 1 1\n${SMALL.split('\n').slice(6).join('\n')}`,
    );
    expect(both.lut1d?.size).toBe(2);
    expect(both.lut3d?.size).toBe(2);
  });

  test('malformed files name the line and what was expected', () => {
    const short = parseError(SMALL.split('\n').slice(0, -2).join('\n'));
    expect(short.message).toContain('needs 8 rows of data, found 7');
    const nan = parseError(SMALL.replace('1 0 1', '1 nan 1'));
    expect(nan.line).toBe(12);
    expect(nan.column).toBe(3);
    expect(nan.message).toBe('bad.cube:12:3: expected a number for green, found "nan"');
    expect(parseError(SMALL.replace('0 1 1', '0 1x 1')).message).toContain('found "1x"');
    expect(parseError(SMALL.replace('1 1 0', '1 1')).message).toContain(
      'expected 3 numbers (R G B), found 2',
    );
    expect(parseError(SMALL.replace('LUT_3D_SIZE 2\n', '')).message).toContain('the size is missing');
    expect(parseError(SMALL.replace('LUT_3D_SIZE 2', 'LUT_3D_SIZE 300')).message).toContain(
      'LUT_3D_SIZE 300 is outside the supported range 2–256',
    );
    expect(parseError(SMALL.replace('LUT_3D_SIZE 2', 'LUT_3D_SIZE two')).message).toContain('integer size');
    expect(parseError(`${SMALL}0 0 0\n`).message).toContain('more rows than the LUT_3D_SIZE 2 declares');
    expect(parseError(SMALL.replace('DOMAIN_MIN', 'DOMIAN_MIN')).message).toContain(
      'unknown keyword "DOMIAN_MIN"',
    );
    expect(parseError('# nothing here\n').message).toContain('not a .cube LUT');
    expect(parseError(SMALL.replace('DOMAIN_MAX 1 1 1', 'DOMAIN_MAX 1 0 1')).message).toContain(
      'DOMAIN_MAX must be greater',
    );
  });
});

describe('writeCube', () => {
  test('round-trips a baked LUT within the six printed decimals', () => {
    const lut = bakeLut3d(5, (r, g, b) => [r * 0.9 + 0.05, g ** 1.2, Math.min(1, b * 1.1)]);
    const text = writeCube({ title: 'Grade', lut3d: lut });
    expect(text.startsWith('TITLE "Grade"\nLUT_3D_SIZE 5\n')).toBe(true);
    const back = parseCube(text).lut3d!;
    expect(back.size).toBe(5);
    for (let i = 0; i < lut.data.length; i++)
      expect(Math.abs(back.data[i]! - lut.data[i]!)).toBeLessThan(1e-6);
  });

  test('writes the domain when it is not [0, 1]', () => {
    const lut = bakeLut3d(2, (r, g, b) => [r, g, b], { min: [0, 0, 0], max: [2, 2, 2] });
    const text = writeCube({ lut3d: lut });
    expect(text).toContain('DOMAIN_MAX 2.000000 2.000000 2.000000');
    expect(parseCube(text).lut3d?.domainMax).toEqual([2, 2, 2]);
  });
});
