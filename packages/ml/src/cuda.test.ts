import { afterAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { affineModel, tempDir } from '@framecraft/test-utils';
import { cudaSupport } from './cuda.ts';

const { dir, cleanup } = await tempDir();
afterAll(cleanup);

describe('cudaSupport', () => {
  test('names the missing provider library, then a missing driver; with both present CUDA may be tried', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    const driver = join(dir, 'nvidiactl');
    const linux = { binFolder: bin, driverNode: driver, platform: 'linux', arch: 'x64' } as const;
    const none = cudaSupport(linux);
    expect(none.available).toBe(false);
    expect(none.reason).toStartWith(
      "onnxruntime-node's CUDA provider is not installed (no libonnxruntime_providers_shared.so; ",
    );
    await writeFile(join(bin, 'libonnxruntime_providers_shared.so'), '');
    expect(cudaSupport(linux).reason).toContain('(no libonnxruntime_providers_cuda.so;');
    await writeFile(join(bin, 'libonnxruntime_providers_cuda.so'), '');
    expect(cudaSupport(linux)).toEqual({
      available: false,
      reason: `no NVIDIA driver (${driver} is missing)`,
    });
    await writeFile(driver, '');
    expect(cudaSupport(linux)).toEqual({ available: true, reason: null });
    expect(cudaSupport({ ...linux, platform: 'darwin', arch: 'arm64' }).reason).toBe(
      'onnxruntime-node has no CUDA provider for darwin/arm64',
    );
  });

  test('a session where CUDA cannot run prints nothing: no ONNX Runtime errors before the CPU fallback', async () => {
    const model = join(dir, 'affine.onnx');
    await writeFile(model, affineModel(1, 0));
    const script = join(dir, 'session.ts');
    await writeFile(
      script,
      `import { OnnxSession } from ${JSON.stringify(join(import.meta.dir, 'index.ts'))};\n` +
        `const s = await OnnxSession.create(${JSON.stringify(model)}, { provider: 'cuda' });\n` +
        'process.stdout.write(JSON.stringify([s.provider, s.providerReason]));\n' +
        'await s.close();\n',
    );
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const [provider, reason] = JSON.parse(r.stdout) as [string, string];
    if (provider === 'cpu') {
      expect(reason).toStartWith('no CUDA: ');
      expect(r.stderr).toBe('');
    } else expect(reason).toBe('CUDA loaded');
  });
});
