// @framecraft/io/testing — generated test media (patterns, clips with audio, subtitles and
// chapters) for tests, examples and benchmarks: kept out of the package's main entry, which is the
// media API.
export type { TestClip, TestClipOptions } from './test-clip.ts';
export { drawScenePattern, drawTestPattern, writeTestClip } from './test-clip.ts';
