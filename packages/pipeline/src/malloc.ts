// glibc keeps memory a long render frees: its malloc raises the threshold above which blocks are
// mmapped each time a large block is freed, after which frame-sized buffers (hundreds of KB) come
// from the heap arenas and their freed pages stay with the process. Over a long render RSS then
// drifts up with each new high-water mark. Setting the trim threshold explicitly (mallopt) turns
// that adjustment off: large buffers stay mmapped and go back to the system when freed, and free
// memory above 1 MiB at the top of a heap is trimmed. Measured on the RSS benchmark (640x360
// pencil, two chunk workers, bench/pipeline.ts --only-rss): peak RSS 10-minute / 1-minute
// 271 / 232 MiB = 1.17x before, 241-245 / 229-230 MiB = 1.05-1.07x in three runs with this.
// Speed, 10-minute render, runs interleaved: 39.5 and 44.3 s without, 43.5 and 43.3 s with — no
// difference beyond this machine's noise. Only glibc has mallopt, and only Bun can call it here
// (bun:ffi); elsewhere this does nothing.

/** `M_TRIM_THRESHOLD` in glibc's malloc.h. */
const M_TRIM_THRESHOLD = -1;
/** Free memory kept at the top of a heap before it is returned. */
const TRIM_BYTES = 1 << 20;

let tuned: Promise<boolean> | null = null;

/**
 * Make this process's glibc malloc return freed frame buffers to the system (process-wide, once;
 * worker threads started later share it). Does nothing without Bun or glibc.
 *
 * @returns Whether the setting was applied.
 */
export function limitMallocRetention(): Promise<boolean> {
  tuned ??= apply();
  return tuned;
}

async function apply(): Promise<boolean> {
  if (typeof (globalThis as { Bun?: unknown }).Bun === 'undefined' || process.platform !== 'linux')
    return false;
  // glibc only (musl has no mallopt): its report names the C library.
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  if (report?.header?.glibcVersionRuntime === undefined) return false;
  try {
    const { dlopen, FFIType } = await import('bun:ffi');
    const libc = dlopen('libc.so.6', { mallopt: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
    // The handle stays open for the process's life (closing libc's handle gains nothing).
    return libc.symbols.mallopt(M_TRIM_THRESHOLD, TRIM_BYTES) === 1;
  } catch {
    return false;
  }
}
