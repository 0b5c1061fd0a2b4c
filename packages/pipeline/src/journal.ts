import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileSha256, writeFileAtomic } from '@framecraft/io';
import { PipelineError } from './errors.ts';

/** A finished segment. */
export interface SegmentRecord {
  readonly file: string;
  readonly frames: number;
  readonly sha256: string;
}

/**
 * The checkpoint journal in a work folder. `last_frame`, `total_frames`, `chunks_completed`,
 * `codec` and `crf` are the original design's checkpoint fields; the rest are ours.
 */
export interface Journal {
  readonly version: 1;
  readonly job_hash: string;
  readonly input: string;
  readonly output: string;
  readonly total_frames: number;
  /** Highest frame index (exclusive end) of the finished chunks, in frame order. */
  readonly last_frame: number;
  readonly chunks_total: number;
  readonly chunks_completed: readonly number[];
  readonly codec: string;
  readonly crf: number;
  readonly segments: Readonly<Record<string, SegmentRecord>>;
  /** A registered model the style uses: its name, the version in use, and each chunk's version. */
  readonly model?: {
    readonly name: string;
    readonly current: string;
    readonly chunks: Readonly<Record<string, string>>;
  };
  readonly updated: string;
}

/** The journal's file name in a work folder. */
export const JOURNAL_FILE = 'journal.json';

/**
 * Read a work folder's journal.
 *
 * @param workDir - The work folder.
 * @returns The journal, or null when there is none.
 * @throws {FramecraftError} `ERR_JOURNAL` when the file exists but is not a journal.
 */
export async function readJournal(workDir: string): Promise<Journal | null> {
  const path = join(workDir, JOURNAL_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const j = JSON.parse(text) as Journal;
    if (j.version !== 1 || typeof j.job_hash !== 'string' || !Array.isArray(j.chunks_completed))
      throw new Error('missing fields');
    return j;
  } catch (err) {
    throw new PipelineError(
      'ERR_JOURNAL',
      `${path} is not a Framecraft journal (${(err as Error).message})`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Write the journal atomically: a temporary file renamed over the old one, so a kill at any
 * moment leaves either the previous or the new journal, never half of one.
 *
 * @param workDir - The work folder.
 * @param journal - The journal.
 */
export async function writeJournal(workDir: string, journal: Journal): Promise<void> {
  await writeFileAtomic(join(workDir, JOURNAL_FILE), `${JSON.stringify(journal, null, 2)}\n`);
}

/**
 * Whether a segment's file is in the work folder with the SHA-256 recorded for it.
 *
 * @param workDir - The work folder.
 * @param record - The segment as recorded.
 */
export async function segmentIntact(workDir: string, record: SegmentRecord): Promise<boolean> {
  const file = join(workDir, record.file);
  return existsSync(file) && (await fileSha256(file)) === record.sha256;
}

/**
 * The journal's finished segments whose files are still intact (a damaged or missing one is left
 * out, to be rendered again).
 *
 * @param workDir - The work folder.
 * @param journal - Its journal, or null.
 * @returns Segments by chunk index.
 */
export async function intactSegments(
  workDir: string,
  journal: Journal | null,
): Promise<Map<number, SegmentRecord>> {
  const intact = new Map<number, SegmentRecord>();
  for (const index of journal?.chunks_completed ?? []) {
    const record = journal?.segments[String(index)];
    if (record !== undefined && (await segmentIntact(workDir, record))) intact.set(index, record);
  }
  return intact;
}
