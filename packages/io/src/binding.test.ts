import { expect, test } from 'bun:test';
import { describePlatformPackage, loadNodeAv } from './binding.ts';
import { NativeBindingError } from './errors.ts';

test('the platform package is found where node-av keeps it', async () => {
  await loadNodeAv();
  expect(describePlatformPackage()).toBe(`@seydx/node-av-${process.platform}-${process.arch} (installed)`);
});

test('a load failure lists the platform, every error and the fixes', () => {
  const err = new NativeBindingError('@seydx/node-av-linux-x64 (not installed)', [
    new Error('Cannot find module node-av.node'),
    new Error('GLIBC_2.38 not found'),
  ]);
  expect(err.code).toBe('ERR_NATIVE_BINDING');
  expect(NativeBindingError.is(err, 'ERR_NATIVE_BINDING')).toBe(true);
  expect(err.message).toContain(`${process.platform}-${process.arch}`);
  expect(err.message).toContain('Cannot find module node-av.node');
  expect(err.message).toContain('GLIBC_2.38 not found');
  expect(err.message).toContain('npm install --include=optional');
  expect(err.errors).toHaveLength(2);
});
