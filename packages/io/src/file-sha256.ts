import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * SHA-256 of a file, streamed (a multi-gigabyte segment or model is never read whole).
 *
 * @param path - The file.
 * @returns Hex digest.
 * @example
 * await fileSha256('chunk-00000.mp4'); // '9f86d0…'
 */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const block of createReadStream(path)) hash.update(block as Buffer);
  return hash.digest('hex');
}
