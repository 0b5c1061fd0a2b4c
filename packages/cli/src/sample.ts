import { fileURLToPath } from 'node:url';

/** The built-in sample: real CC0 footage shipped with the CLI (see assets/demo/SOURCE.md). */
export const DEMO_CLIP: string = fileURLToPath(new URL('../assets/demo/flower.mp4', import.meta.url));
