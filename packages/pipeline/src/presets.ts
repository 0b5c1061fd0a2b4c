import type { JobInput } from './job.ts';

/**
 * A render preset in the original design's fields (snake_case, as in its YAML files): what the
 * speed / balanced / quality settings change.
 */
export interface RenderPreset {
  readonly description: string;
  readonly codec: string;
  readonly crf: number;
  /** Encoder preset in x264 terms. */
  readonly preset: JobInput['encoderPreset'] & string;
  /** Seconds per chunk. */
  readonly chunk_duration: number;
  readonly use_temporal: boolean;
}

/** The built-in presets. */
export const BUILT_IN_PRESETS: Readonly<Record<'speed' | 'balanced' | 'quality', RenderPreset>> = {
  speed: {
    description: 'Fastest turnaround: quick encoder settings, no temporal smoothing.',
    codec: 'auto',
    crf: 26,
    preset: 'veryfast',
    chunk_duration: 10,
    use_temporal: false,
  },
  balanced: {
    description: 'Good quality at a reasonable speed, with temporal smoothing.',
    codec: 'auto',
    crf: 20,
    preset: 'medium',
    chunk_duration: 10,
    use_temporal: true,
  },
  quality: {
    description: 'Best quality: slow encoder settings, temporal smoothing, longer chunks.',
    codec: 'auto',
    crf: 16,
    preset: 'slow',
    chunk_duration: 20,
    use_temporal: true,
  },
};

/**
 * The job fields a preset sets (the job's own fields win over them).
 *
 * @param preset - A render preset.
 * @returns Partial job fields.
 */
export function presetJobFields(preset: RenderPreset): Partial<JobInput> {
  return {
    codec: preset.codec,
    crf: preset.crf,
    encoderPreset: preset.preset,
    chunkDuration: preset.chunk_duration,
    temporal: { enabled: preset.use_temporal },
  };
}
