import { describe, expect, test } from 'bun:test';
import { createFrame } from '@framecraft/core';
import { linearToSrgb, linearToSrgb8, SRGB8_TO_LINEAR, srgbToLinear } from './transfer.ts';
import { rgbToYcbcr, standardOf, ycbcrCoefficients, ycbcrToRgb, yuvToRgb24 } from './ycbcr.ts';

describe('sRGB transfer', () => {
  test('piecewise function: known points and continuity at the knee', () => {
    expect(srgbToLinear(0)).toBe(0);
    expect(srgbToLinear(1)).toBeCloseTo(1, 12);
    expect(srgbToLinear(0.5)).toBeCloseTo(0.214041, 6);
    expect(srgbToLinear(0.04045)).toBeCloseTo(srgbToLinear(0.0404501), 6);
    for (let i = 0; i <= 100; i++) expect(linearToSrgb(srgbToLinear(i / 100))).toBeCloseTo(i / 100, 10);
  });

  test('8-bit tables agree with the exact function', () => {
    for (let c = 0; c < 256; c++) {
      expect(SRGB8_TO_LINEAR[c]).toBeCloseTo(srgbToLinear(c / 255), 6);
      expect(linearToSrgb8(SRGB8_TO_LINEAR[c]!)).toBe(c);
    }
    expect(linearToSrgb8(-1)).toBe(0);
    expect(linearToSrgb8(2)).toBe(255);
  });
});

describe("Y'CbCr", () => {
  test('BT.709 limited: white, black and pure red land on the standard codes', () => {
    const c = ycbcrCoefficients('bt709', 'limited');
    expect(rgbToYcbcr(1, 1, 1, c)).toEqual([235, 128, 128]);
    expect(rgbToYcbcr(0, 0, 0, c)).toEqual([16, 128, 128]);
    expect(rgbToYcbcr(1, 0, 0, c)).toEqual([63, 102, 240]);
  });

  test('BT.601 and BT.2020 differ from BT.709 on saturated colours; 10-bit scales codes', () => {
    expect(rgbToYcbcr(1, 0, 0, ycbcrCoefficients('bt601', 'limited'))).toEqual([81, 90, 240]);
    expect(rgbToYcbcr(1, 0, 0, ycbcrCoefficients('bt2020', 'limited'))[0]).toBe(74);
    expect(rgbToYcbcr(1, 1, 1, ycbcrCoefficients('bt709', 'limited', 10))).toEqual([940, 512, 512]);
    expect(rgbToYcbcr(1, 1, 1, ycbcrCoefficients('bt709', 'full'))).toEqual([255, 128, 128]);
  });

  test('round trip within half a code for every standard and range', () => {
    for (const std of ['bt601', 'bt709', 'bt2020'] as const) {
      for (const range of ['limited', 'full'] as const) {
        const c = ycbcrCoefficients(std, range);
        for (const rgb of [
          [0.2, 0.4, 0.6],
          [0.9, 0.1, 0.3],
          [0.5, 0.5, 0.5],
        ] as const) {
          const [y, cb, cr] = rgbToYcbcr(rgb[0], rgb[1], rgb[2], c);
          const back = ycbcrToRgb(y!, cb!, cr!, c);
          for (let k = 0; k < 3; k++) expect(Math.abs(back[k]! - rgb[k]!) * 255).toBeLessThan(2);
        }
      }
    }
  });

  test('standardOf maps FFmpeg names and guesses untagged material by height', () => {
    expect(standardOf('smpte170m')).toBe('bt601');
    expect(standardOf('bt2020nc')).toBe('bt2020');
    expect(standardOf('unknown', 480)).toBe('bt601');
    expect(standardOf('unknown', 1080)).toBe('bt709');
  });

  test('yuvToRgb24 converts a frame with its tags', () => {
    const f = createFrame({
      width: 4,
      height: 2,
      format: 'yuv420p',
      color: { range: 'limited', primaries: 'bt709', transfer: 'bt709', matrix: 'bt709' },
    });
    f.planes[0]!.data.fill(63);
    f.planes[1]!.data.fill(102);
    f.planes[2]!.data.fill(240);
    const rgb = yuvToRgb24(f);
    expect(rgb.format).toBe('rgb24');
    const px = Array.from(rgb.planes[0]!.data.subarray(0, 3));
    expect(Math.abs(px[0]! - 255)).toBeLessThanOrEqual(1);
    expect(px[1]).toBeLessThanOrEqual(1);
    expect(px[2]).toBeLessThanOrEqual(1);
    expect(() => yuvToRgb24(createFrame({ width: 2, height: 2, format: 'rgb24' }))).toThrow(TypeError);
  });
});
