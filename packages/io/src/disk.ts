import { statfs } from 'node:fs/promises';

/** Space on the file system holding a folder. */
export interface DiskSpace {
  /** Bytes available to this user. */
  readonly free: number;
  /** Total bytes of the file system. */
  readonly total: number;
}

/**
 * Measure free space of the file system that holds a folder.
 *
 * @param folder - Any existing path on the file system.
 * @returns Available and total bytes.
 * @throws {Error} With Node's code (`ENOENT`, …) when the path does not exist.
 */
export async function diskSpace(folder: string): Promise<DiskSpace> {
  const s = await statfs(folder);
  return { free: Number(s.bavail) * Number(s.bsize), total: Number(s.blocks) * Number(s.bsize) };
}
