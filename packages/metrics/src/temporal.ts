import { assertSameSize, type LumaView } from './luma.ts';

/**
 * Flow-free temporal consistency (after arXiv 2102.05822): mean |(O_t − O_{t−1}) − (I_t − I_{t−1})|
 * over luma. 0 when the output changes exactly as the input does; larger values mean flicker or
 * temporal noise the input did not have.
 *
 * @param prevOutput - O_{t−1}.
 * @param output - O_t.
 * @param prevInput - I_{t−1}.
 * @param input - I_t.
 * @returns Mean absolute difference of the frame differences, in code values.
 */
export function temporalConsistency(
  prevOutput: LumaView,
  output: LumaView,
  prevInput: LumaView,
  input: LumaView,
): number {
  assertSameSize(output, prevOutput);
  assertSameSize(output, input);
  assertSameSize(output, prevInput);
  let sum = 0;
  for (let y = 0; y < output.height; y++) {
    const o = y * output.stride;
    const po = y * prevOutput.stride;
    const i = y * input.stride;
    const pi = y * prevInput.stride;
    for (let x = 0; x < output.width; x++) {
      const d =
        output.data[o + x]! - prevOutput.data[po + x]! - (input.data[i + x]! - prevInput.data[pi + x]!);
      sum += d < 0 ? -d : d;
    }
  }
  return sum / (output.width * output.height);
}

/**
 * Global flicker: mean |Δ| of the output's per-frame mean-luma series relative to the input's.
 * 1 means the output's brightness moves as much as the input's; 2 means twice as much.
 *
 * @param outputMeans - Mean luma of each output frame, in order.
 * @param inputMeans - Mean luma of each input frame.
 * @returns The ratio (the output's own mean |Δ| when the input never changes brightness).
 * @throws {RangeError} When the series differ in length.
 */
export function globalFlicker(outputMeans: readonly number[], inputMeans: readonly number[]): number {
  if (outputMeans.length !== inputMeans.length) {
    throw new RangeError(
      `Expected series of equal length for inputMeans but received ${inputMeans.length} (output has ${outputMeans.length})`,
    );
  }
  const meanAbsDelta = (s: readonly number[]): number => {
    let sum = 0;
    for (let i = 1; i < s.length; i++) sum += Math.abs(s[i]! - s[i - 1]!);
    return s.length > 1 ? sum / (s.length - 1) : 0;
  };
  const out = meanAbsDelta(outputMeans);
  const inp = meanAbsDelta(inputMeans);
  return inp > 1e-9 ? out / inp : out;
}
