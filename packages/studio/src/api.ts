/**
 * The JSON the studio's API answers with: one type per answer, used by the routes that build them
 * and (through JSDoc imports) by the page scripts that read them, so both sides are checked
 * against the same shapes.
 */
import type { HardwareInfo } from '@framecraft/io';
import type { ModelManifest } from '@framecraft/ml';
import type { StylizerInputFormat, StylizerPreset } from '@framecraft/stylizers';
import type { JsonSchema } from '@valibot/to-json-schema';
import type { LabComparison } from './lab.ts';
import type { QueuedJob } from './queue.ts';

export type { ProbeResult } from '@framecraft/io';
export type { FeedbackRecord, TrainEvent } from '@framecraft/trainer';
export type { ErrorBody } from './errors.ts';
export type { LabComparison } from './lab.ts';
export type { QueuedJob } from './queue.ts';
export type { TrainingRun } from './training.ts';

/** `GET /api/styles`: each style with its options as JSON Schema. */
export interface StyleInfo {
  readonly name: string;
  readonly description: string;
  readonly inputFormat: StylizerInputFormat;
  readonly presets: Readonly<Record<StylizerPreset, unknown>>;
  readonly schema: JsonSchema;
}

/** `GET /api/styles`. */
export interface StyleList {
  readonly styles: readonly StyleInfo[];
}

/** `GET /api/roots`. */
export interface RootList {
  readonly roots: readonly string[];
}

/** `GET /api/files?dir=`: a folder's entries, folders first, hidden ones left out. */
export interface FileList {
  readonly dir: string;
  readonly entries: readonly { readonly name: string; readonly dir: boolean }[];
}

/** `POST /api/upload`: where the upload was stored. */
export interface Uploaded {
  readonly path: string;
  readonly size: number;
}

/** `GET /api/metrics?output=`: a render's per-frame metrics (its `.metrics.jsonl` lines). */
export interface MetricsFrames {
  readonly frames: readonly (Readonly<Record<string, unknown>> & { readonly frame_idx: number })[];
}

/** `GET` and `POST /api/defaults`: what the dashboard starts from. */
export interface Defaults {
  readonly style: string;
  readonly preset: StylizerPreset;
  readonly codec: string;
  readonly crf: number;
}

/** `GET /api/models`: the registry's models and the promoted version of each name. */
export interface ModelList {
  readonly models: readonly ModelManifest[];
  readonly promoted: Readonly<Record<string, string>>;
}

/** `GET /api/settings`: the hardware and what it means for renders. */
export interface Settings {
  readonly gpus: HardwareInfo['gpus'];
  readonly gpuNote: string | null;
  readonly nvenc: HardwareInfo['nvenc'];
  /** GPUs running hot, in words. */
  readonly warnings: readonly string[];
  readonly advice: string;
  readonly roots: readonly string[];
  /** Where renders run, in words. */
  readonly renderTarget: string;
}

/** `GET /api/jobs`. */
export interface JobList {
  readonly jobs: readonly QueuedJob[];
  readonly target: string;
}

/** `POST /api/jobs/folder`: the jobs queued and the outputs skipped because they exist. */
export interface FolderQueued {
  readonly folder: string;
  readonly outDir: string;
  readonly queued: QueuedJob[];
  readonly skipped: string[];
}

/** `POST /api/lab/compare`: the comparison and where its images are served. */
export interface LabCompared extends LabComparison {
  readonly urls: { readonly original: string; readonly a: string; readonly b: string };
}

/** `GET /api/feedback`: the approved judgements a training run would learn from. */
export interface FeedbackPairs {
  readonly pairs: readonly {
    readonly id: string;
    readonly time: string;
    readonly clip: string | null;
    readonly frameIndex: number | null;
    readonly style: string | null;
    /** URLs of the pair's images. */
    readonly input: string;
    readonly target: string;
  }[];
}
