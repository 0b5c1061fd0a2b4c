import { cloneFrame, type Frame, invalidRangeError } from '@framecraft/core';
import * as v from 'valibot';
import type { Stylizer, StylizerInstance } from './stylizer.ts';

const options: v.ObjectSchema<Record<never, never>, undefined> = v.object({});

/**
 * The identity style: frames pass through unchanged (`process` copies; the instance says
 * `passthrough`, so the pipeline skips it and encodes the decoded frame itself). The I/O floor for
 * benchmarks and the reference for pipeline tests.
 */
export const identity: Stylizer<typeof options> = {
  name: 'identity',
  description: 'No style: frames pass through unchanged (the I/O floor).',
  options,
  inputFormat: 'yuv420p',
  presets: { speed: {}, balanced: {}, quality: {} },
  check: async () => {},
  create(_options, context): StylizerInstance {
    let disposed = false;
    const check = (frame: Frame): void => {
      if (disposed) throw new Error('identity stylizer used after dispose()');
      if (frame.width !== context.width || frame.height !== context.height) {
        throw invalidRangeError(
          `a ${context.width}x${context.height} frame`,
          'frame',
          `${frame.width}x${frame.height}`,
        );
      }
    };
    return {
      outputFormat: 'yuv420p',
      stateful: false,
      passthrough: true,
      process(frame) {
        check(frame);
        return cloneFrame(frame);
      },
      processInto(frame, out) {
        check(frame);
        return cloneFrame(frame, out);
      },
      dispose() {
        disposed = true;
      },
    };
  },
};
