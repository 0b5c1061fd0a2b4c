import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, readFile } from 'node:fs/promises';
import { extname, isAbsolute, join, resolve } from 'node:path';
import type { TrainingPair } from './dataset.ts';
import { TrainerError } from './errors.ts';

/** One rendered candidate shown to the person judging. */
export interface FeedbackOutput {
  /** The image, relative to the log's folder. */
  readonly image: string;
  readonly style: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** `name@version` for a neural style. */
  readonly model?: string;
}

/**
 * One judgement, a line of `feedback.jsonl`: the source frame, one or two candidates, the pick and
 * whether the picked one may serve as a training target.
 */
export interface FeedbackRecord {
  readonly id: string;
  readonly time: string;
  /** `ab`: two candidates compared; `approve`: one candidate judged alone. */
  readonly kind: 'ab' | 'approve';
  /** The source frame, relative to the log's folder. */
  readonly input: string;
  readonly a: FeedbackOutput;
  readonly b?: FeedbackOutput;
  readonly choice: 'a' | 'b' | 'tie' | 'neither';
  /** 1–5, optional. */
  readonly rating?: number;
  /** The chosen candidate is a good target for training. */
  readonly approved: boolean;
  /** Where the frame came from, so the split keeps shots apart. */
  readonly clip?: string;
  readonly frameIndex?: number;
  readonly shot?: string;
  readonly note?: string;
}

/**
 * What {@link FeedbackLog.append} takes: a record without its id and time, `kind` optional (`ab`
 * when there is a second candidate), images as paths anywhere (they are copied into the log).
 */
export type NewJudgement = Omit<FeedbackRecord, 'id' | 'time' | 'kind'> & {
  readonly kind?: FeedbackRecord['kind'];
};

/**
 * The style lab's feedback log: `<dir>/feedback.jsonl`, one judgement per line (appended, never
 * rewritten), with the frames it concerns copied into `<dir>/frames/` so the log stays valid when
 * the originals move. The studio and `framecraft feedback` write it; the trainer reads approved
 * pairs from it.
 */
export class FeedbackLog {
  readonly dir: string;

  /** @param dir - The feedback folder (`<data home>/feedback`). */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** The JSON-lines file. */
  get file(): string {
    return join(this.dir, 'feedback.jsonl');
  }

  /**
   * Append a judgement, copying its images into the log's `frames/` folder.
   *
   * @returns The stored record.
   * @throws {FramecraftError} `ERR_FEEDBACK` for a missing image or a rating outside 1–5.
   */
  async append(j: NewJudgement): Promise<FeedbackRecord> {
    if (j.rating !== undefined && !(Number.isInteger(j.rating) && j.rating >= 1 && j.rating <= 5))
      throw new TrainerError('ERR_FEEDBACK', `rating ${j.rating}: expected an integer from 1 to 5`);
    if (j.choice === 'b' && j.b === undefined)
      throw new TrainerError('ERR_FEEDBACK', "choice 'b' needs a second candidate");
    const id = `fb-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    await mkdir(join(this.dir, 'frames'), { recursive: true });
    const keep = async (file: string, role: string): Promise<string> => {
      if (!existsSync(file)) throw new TrainerError('ERR_FEEDBACK', `${file}: no such image`);
      const rel = join('frames', `${id}-${role}${extname(file).toLowerCase() || '.png'}`);
      await copyFile(file, join(this.dir, rel));
      return rel;
    };
    const record: FeedbackRecord = {
      id,
      time: new Date().toISOString(),
      kind: j.kind ?? (j.b === undefined ? 'approve' : 'ab'),
      input: await keep(j.input, 'input'),
      a: { ...j.a, image: await keep(j.a.image, 'a') },
      ...(j.b !== undefined && { b: { ...j.b, image: await keep(j.b.image, 'b') } }),
      choice: j.choice,
      ...(j.rating !== undefined && { rating: j.rating }),
      approved: j.approved,
      ...(j.clip !== undefined && { clip: j.clip }),
      ...(j.frameIndex !== undefined && { frameIndex: j.frameIndex }),
      ...(j.shot !== undefined && { shot: j.shot }),
      ...(j.note !== undefined && { note: j.note }),
    };
    await appendFile(this.file, `${JSON.stringify(record)}\n`);
    return record;
  }

  /**
   * Every judgement, oldest first. A torn last line (a crash mid-append) is skipped; any other
   * malformed line is an error naming the file and line.
   *
   * @throws {FramecraftError} `ERR_FEEDBACK`.
   */
  async read(): Promise<FeedbackRecord[]> {
    if (!existsSync(this.file)) return [];
    const lines = (await readFile(this.file, 'utf8')).split('\n');
    const out: FeedbackRecord[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '') continue;
      try {
        out.push(JSON.parse(line) as FeedbackRecord);
      } catch (err) {
        if (i === lines.length - 1) break;
        throw new TrainerError(
          'ERR_FEEDBACK',
          `${this.file} line ${i + 1}: not JSON (${(err as Error).message})`,
        );
      }
    }
    return out;
  }

  /**
   * Training pairs from approved judgements: the source frame and the chosen candidate. Shots come
   * from the record (`shot`, else `clip`, else the judgement itself); order from `frameIndex`.
   */
  async approvedPairs(): Promise<TrainingPair[]> {
    const abs = (p: string): string => (isAbsolute(p) ? p : resolve(this.dir, p));
    return (await this.read())
      .filter((r) => r.approved && (r.choice === 'a' || (r.choice === 'b' && r.b !== undefined)))
      .map((r) => ({
        id: r.id,
        input: abs(r.input),
        target: abs(r.choice === 'b' ? r.b!.image : r.a.image),
        shot: r.shot ?? r.clip ?? r.id,
        order: r.frameIndex ?? 0,
      }));
  }
}
