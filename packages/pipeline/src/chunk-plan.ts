/** One chunk of a render: frames [start, end) in display order, warmed from `prerollStart`. */
export interface Chunk {
  readonly index: number;
  /** First frame written by this chunk. */
  readonly start: number;
  /** Frame after the last one written. */
  readonly end: number;
  /** First frame decoded and stylized (not written) to warm stateful styles and the EMA. */
  readonly prerollStart: number;
  /** Time of the first frame written, seconds. */
  readonly startTime: number;
  /** Time of the first pre-roll frame, seconds. */
  readonly prerollTime: number;
  /** Time of frame `end` (the next chunk's first), seconds; null for the last chunk. */
  readonly endTime: number | null;
}

/** What {@link planChunks} needs. */
export interface PlanInput {
  /** Presentation time of every frame, seconds, ascending. */
  readonly frameTimes: readonly number[];
  /** Keyframe times, seconds (from the probe). */
  readonly keyframeTimes: readonly number[];
  /** Target chunk length, seconds. */
  readonly chunkDuration: number;
  /** Frames of pre-roll before each chunk. */
  readonly preroll: number;
}

/** Index of the first element >= value (frameTimes is sorted). */
function lowerBound(a: readonly number[], value: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Split a video into chunks of about `chunkDuration` seconds. Each cut goes to the keyframe
 * nearest the target time when one lies within half a chunk of it (the chunk then starts on a
 * keyframe: cheap to seek, and the boundary sits where the encoder already cut the picture), else
 * exactly at the target frame (also when that keyframe already starts the previous chunk). A last chunk shorter than a quarter chunk joins the one before.
 *
 * @param input - Frame times, keyframe times, chunk length and pre-roll.
 * @returns The chunks, covering every frame once, in order.
 */
export function planChunks(input: PlanInput): Chunk[] {
  const { frameTimes, keyframeTimes, chunkDuration, preroll } = input;
  const n = frameTimes.length;
  if (n === 0) return [];
  const t0 = frameTimes[0]!;
  const last = frameTimes[n - 1]!;
  const eps = 1e-6;
  const cuts = [0];
  for (let k = 1; ; k++) {
    const target = t0 + k * chunkDuration;
    if (target > last - chunkDuration / 4) break;
    let best: number | null = null;
    const previous = frameTimes[cuts[cuts.length - 1]!]!;
    for (const kt of keyframeTimes) {
      if (kt <= previous + eps) continue;
      if (
        Math.abs(kt - target) <= chunkDuration / 2 &&
        (best === null || Math.abs(kt - target) < Math.abs(best - target))
      )
        best = kt;
    }
    const frame = lowerBound(frameTimes, (best ?? target) - eps);
    if (frame > cuts[cuts.length - 1]! && frame < n) cuts.push(frame);
  }
  return cuts.map((start, index) => {
    const end = index + 1 < cuts.length ? cuts[index + 1]! : n;
    const prerollStart = Math.max(0, start - preroll);
    return {
      index,
      start,
      end,
      prerollStart,
      startTime: frameTimes[start]!,
      prerollTime: frameTimes[prerollStart]!,
      endTime: end < n ? frameTimes[end]! : null,
    };
  });
}
