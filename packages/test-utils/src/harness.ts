// Lets the same test files run under `bun test` and under Node's test runner (`node --import tsx
// --test`), because @framecraft/io is an N-API addon user that people also run from Node.
import type { expect as BunExpect } from 'bun:test';

type Fn = () => unknown;
interface Api {
  describe: (name: string, fn: () => void) => void;
  test: (name: string, fn: Fn, timeoutMs?: number) => void;
  beforeAll: (fn: Fn, timeoutMs?: number) => void;
  afterAll: (fn: Fn) => void;
  expect: typeof BunExpect;
}

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined';

async function load(): Promise<Api> {
  if (isBun) {
    const b = await import('bun:test');
    return {
      describe: (n, fn) => b.describe(n, fn),
      test: (n, fn, t) => b.test(n, fn as () => Promise<void>, t ?? 60_000),
      beforeAll: (fn, t) => b.beforeAll(fn as () => Promise<void>, t ?? 120_000),
      afterAll: (fn) => b.afterAll(fn as () => Promise<void>),
      expect: b.expect,
    };
  }
  const nt = await import('node:test');
  const { expect } = await import('expect');
  return {
    describe: (n, fn) => void nt.describe(n, fn),
    test: (n, fn, t) => void nt.test(n, { timeout: t ?? 60_000 }, fn as () => Promise<void>),
    beforeAll: (fn, t) => void nt.before(fn as () => Promise<void>, { timeout: t ?? 120_000 }),
    afterAll: (fn) => void nt.after(fn as () => Promise<void>),
    expect: expect as unknown as typeof BunExpect,
  };
}

const api: Api = await load();
export const describe: Api['describe'] = api.describe;
export const test: Api['test'] = api.test;
export const beforeAll: Api['beforeAll'] = api.beforeAll;
export const afterAll: Api['afterAll'] = api.afterAll;
export const expect: Api['expect'] = api.expect;
/** True under Bun's runner. */
export const runningUnderBun: boolean = isBun;

/**
 * Give the enclosing `describe` a fresh temporary folder, created before its tests and removed
 * after them.
 *
 * @returns An object whose `path` is set once the tests run.
 */
export function useTempDir(): { readonly path: string } {
  const state = { path: '' };
  let cleanup: (() => Promise<void>) | undefined;
  api.beforeAll(async () => {
    const { tempDir } = await import('./fixtures.ts');
    const t = await tempDir();
    state.path = t.dir;
    cleanup = t.cleanup;
  });
  api.afterAll(() => cleanup?.());
  return state;
}
