// End-to-end: the studio's pages in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; browsers cannot be downloaded here). Skipped with a message without Chromium.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTestClip } from '@framecraft/io/testing';
import { ModelRegistry } from '@framecraft/ml';
import { affineModel, tempDir } from '@framecraft/test-utils';
import { findTorch } from '@framecraft/trainer';
import type { Browser, Page } from 'playwright-core';
import { type RunningStudio, startStudio } from './server.ts';

// The functions given to page.waitForFunction run in the page, where `document` exists; the
// repository's type-check has no DOM library, so this is the little of it they use.
interface PageElement {
  readonly textContent: string | null;
  readonly naturalWidth: number;
  readonly readyState: number;
  readonly duration: number;
  readonly value: string;
  getAttribute(name: string): string | null;
}
declare const document: {
  getElementById(id: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { readonly length: number };
};

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`studio browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
const run = test.skipIf(!hasChromium);

/** One launch attempt's limit: a first start after installation builds the profile and font caches. */
const LAUNCH_TIMEOUT_MS = 120_000;

/**
 * Start Chromium, once more if the first start fails or hangs (a brand-new machine's first start
 * is the slow, fragile one; the second finds its caches).
 */
async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const launch = (): Promise<Browser> =>
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: LAUNCH_TIMEOUT_MS });
  try {
    return await launch();
  } catch (err) {
    console.warn(`Chromium did not start (${(err as Error).message.split('\n')[0]}); trying once more`);
    return launch();
  }
}

/** PyTorch for the trainer page's test (found once, before the tests are declared). */
const torchMissing = await findTorch().then(
  () => null,
  (err: Error) => err.message.split('\n')[0] ?? 'no PyTorch',
);
if (hasChromium && torchMissing !== null) console.warn(`trainer page test skipped: ${torchMissing}`);

const { dir, cleanup } = await tempDir();
process.env.FRAMECRAFT_HOME = join(dir, 'home');
const media = join(dir, 'media');
/** Screenshots of every page, for a person to look at: STUDIO_SCREENSHOTS or the test's folder. */
const shots = process.env.STUDIO_SCREENSHOTS ?? join(dir, 'screenshots');
let studio: RunningStudio;
let browser: Browser;
let page: Page;

beforeAll(
  async () => {
    await mkdir(media, { recursive: true });
    await mkdir(shots, { recursive: true });
    await writeTestClip(join(media, 'clip.mp4'), { width: 320, height: 180, frames: 30 });
    studio = await startStudio({
      roots: [media],
      dataHome: join(dir, 'home'),
      port: 0,
      nvidiaSmi: join(dir, 'none'),
    });
    if (!hasChromium) return;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
    // A browser's first start on a new machine (profile, font caches) can take far longer than bun's
    // 5 s hook default: the hook gets the launch attempts' time and the clip and studio besides.
  },
  2 * LAUNCH_TIMEOUT_MS + 60_000,
);
afterAll(async () => {
  await browser?.close();
  await studio.close();
  if (process.env.STUDIO_SCREENSHOTS === undefined) await cleanup();
});

/** Load a page and wait until its script has set it up (fields filled, buttons listening). */
async function open(path: string): Promise<void> {
  await page.goto(`${studio.url}${path}`);
  await page.waitForSelector('body[data-ready="yes"]', { state: 'attached' });
}

describe('studio in a browser', () => {
  run(
    'settings says there is no GPU here',
    async () => {
      // An int8 version shows what it was made from and what it measured.
      const file = join(dir, 'wash.onnx');
      await writeFile(file, affineModel(0.5, 60));
      await new ModelRegistry(join(dir, 'home', 'models')).add(file, {
        name: 'wash',
        metrics: { heldOutSsimMin: 0.987, heldOutPsnrMin: 33.21, speedup: 1.87 },
        quantized: {
          from: 'v0',
          precision: 'int8',
          format: 'qdq',
          int8Nodes: 13,
          floatNodes: [],
          calibration: { clips: ['a.mp4'], frames: 6, height: 360 },
        },
      });
      await open('/settings');
      expect(await page.textContent('#models')).toContain(
        'wash@v1 (int8 from v0: SSIM 0.9870, PSNR 33.2 dB, 1.87× faster)',
      );
      await page.waitForSelector('#noGpu');
      expect(await page.textContent('#hardware')).toMatch(/No GPU/);
      expect(await page.textContent('#hardware')).toMatch(/libx264/);
      // Defaults saved here are what the dashboard starts from.
      await page.fill('#defCrf', '24');
      await page.selectOption('#defStyle', 'comic');
      await page.click('#saveDefaults');
      await page.waitForFunction(() =>
        /CRF 24/.test(document.getElementById('defStatus')?.textContent ?? ''),
      );
      await page.screenshot({ path: join(shots, 'settings.png'), fullPage: true });
      await open('/');
      await page.waitForSelector('#style option[value="comic"]', { state: 'attached' });
      expect(await page.inputValue('#crf')).toBe('24');
      expect(await page.inputValue('#style')).toBe('comic');
    },
    60_000,
  );

  run(
    'a render submitted on the dashboard finishes in the queue, and its output plays',
    async () => {
      await open('/');
      await page.waitForSelector('#style option[value="pencil"]', { state: 'attached' });
      // Upload the clip through the page: it lands in the studio's upload folder.
      await page.setInputFiles('#upload', join(media, 'clip.mp4'));
      await page.waitForFunction(() =>
        /Uploaded as/.test(document.getElementById('status')?.textContent ?? ''),
      );
      expect(await page.inputValue('#input')).toBe(join(dir, 'home', 'studio', 'uploads', 'clip.mp4'));
      await page.waitForFunction(() => /320×180/.test(document.getElementById('probe')?.textContent ?? ''));
      await page.selectOption('#style', 'cartoon');
      await page.waitForSelector('#options input[name="colors"]');
      await page.fill('#options input[name="colors"]', '6');
      await page.fill('#output', join(media, 'clip-cartoon.mp4'));
      await page.selectOption('#temporal', 'flow');
      await page.click('#preview');
      await page.waitForFunction(() => document.getElementById('prevStyled')!.naturalWidth > 0);
      await page.screenshot({ path: join(shots, 'dashboard.png'), fullPage: true });
      await page.click('#submit');
      await page.waitForFunction(() =>
        /Queued as/.test(document.getElementById('status')?.textContent ?? ''),
      );
      const { jobs } = (await page.evaluate(() => fetch('/api/jobs').then((r) => r.json()))) as {
        jobs: { job: { output: string; temporal?: { mode?: string } } }[];
      };
      expect(jobs.find((j) => j.job.output.endsWith('clip-cartoon.mp4'))?.job.temporal?.mode).toBe('flow');
      await open('/queue');
      await page.waitForSelector('td.state-done', { timeout: 60_000 });
      await page.click('button.open');
      const duration = await page.waitForFunction(
        () => {
          const v = document.getElementById('player')!;
          return v.readyState >= 1 && v.duration > 0 ? v.duration : false;
        },
        undefined,
        { timeout: 20_000 },
      );
      expect(Number(await duration.jsonValue())).toBeGreaterThan(0.9);
      await page.waitForSelector('#charts svg polyline');
      // SSIM, sharpness, temporal consistency and the warping error.
      await page.waitForFunction(() => document.querySelectorAll('#charts svg').length === 4);
      await page.screenshot({ path: join(shots, 'queue.png'), fullPage: true });
    },
    120_000,
  );

  run(
    'the dashboard offers neural with the built-in model, and queues a whole folder: one job per video',
    async () => {
      await mkdir(join(media, 'batch'), { recursive: true });
      await writeTestClip(join(media, 'batch', 'b1.mp4'), { width: 96, height: 64, frames: 8 });
      await writeTestClip(join(media, 'batch', 'b2.mov'), { width: 96, height: 64, frames: 6, seed: 2 });
      await open('/');
      await page.waitForSelector('#style option[value="neural"]', { state: 'attached' });
      await page.selectOption('#style', 'neural');
      const model = await page.waitForSelector('#options select[name="model"] option[value="mosaic"]', {
        state: 'attached',
      });
      expect(await model.textContent()).toBe('mosaic (built-in)');
      // A frame previewed with it: the lab resolves the model's name to the built-in file.
      await page.fill('#input', join(media, 'clip.mp4'));
      await page.click('#preview');
      await page.waitForFunction(() => document.getElementById('prevStyled')!.naturalWidth > 0);
      expect(await page.textContent('#status')).toBe('');
      await page.screenshot({ path: join(shots, 'dashboard-neural.png'), fullPage: true });
      // Browse into the folder: the folder card follows.
      await page.click('#browser button[data-dir$="/batch"]');
      await page.waitForFunction(
        (want) => document.getElementById('folder')?.value === want,
        join(media, 'batch'),
      );
      await page.selectOption('#style', 'pencil');
      await page.click('#queueFolder');
      await page.waitForFunction(() =>
        /Queued 2 video\(s\) into/.test(document.getElementById('folderStatus')?.textContent ?? ''),
      );
      await page.screenshot({ path: join(shots, 'dashboard-folder.png'), fullPage: true });
      await open('/queue');
      await page.waitForFunction(() => document.querySelectorAll('td.state-done').length >= 3, undefined, {
        timeout: 60_000,
      });
      for (const name of ['b1-pencil.mp4', 'b2-pencil.mov'])
        expect(existsSync(join(media, 'batch', 'stylized', name))).toBe(true);
      // Queued again: both outputs exist, nothing is queued twice.
      const again = await page.evaluate(
        async (folder) => {
          const res = await fetch('/api/jobs/folder', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ folder, style: 'pencil' }),
          });
          return (await res.json()) as { queued: unknown[]; skipped: string[] };
        },
        join(media, 'batch'),
      );
      expect([again.queued.length, again.skipped.length]).toEqual([0, 2]);
    },
    120_000,
  );

  run(
    'an A/B judgement in the style lab lands in the feedback log',
    async () => {
      await open('/lab');
      await page.waitForSelector('#styleB option[value="comic"]', { state: 'attached' });
      await page.fill('#labInput', join(media, 'clip.mp4'));
      await page.fill('#labTime', '0.5');
      await page.selectOption('#styleB', 'comic');
      await page.click('#compare');
      await page.waitForSelector('#abPane:not([hidden])');
      await page.waitForFunction(() => document.getElementById('imgB')!.naturalWidth > 0);
      await page.fill('#slider', '30');
      await page.waitForFunction(() => document.getElementById('sideA')!.naturalWidth > 0);
      await page.screenshot({ path: join(shots, 'lab.png'), fullPage: true });
      await page.click('button[data-choice="b"]');
      await page.waitForFunction(() => /Saved/.test(document.getElementById('labStatus')?.textContent ?? ''));
      const { FeedbackLog } = await import('@framecraft/trainer');
      const records = await new FeedbackLog(join(dir, 'home', 'feedback')).read();
      expect(records.at(-1)).toMatchObject({ choice: 'b', approved: true, frameIndex: 15 });
      expect(records.at(-1)!.b?.style).toBe('comic');
    },
    60_000,
  );

  test.skipIf(!hasChromium || torchMissing !== null)(
    'a short fine-tune started on the trainer page updates the loss plot',
    async () => {
      const { initModel } = await import('@framecraft/trainer');
      const { ModelRegistry } = await import('@framecraft/ml');
      const base = join(dir, 'base.onnx');
      await initModel({ arch: 'transformer', out: base, widths: [8, 16, 32], blocks: 1 });
      await new ModelRegistry(join(dir, 'home', 'models')).add(base, { name: 'tiny' });
      await open('/trainer');
      await page.waitForSelector('#trainBase option[value="tiny"]', { state: 'attached' });
      // The approved pair from the lab test is listed and chosen.
      await page.waitForSelector('#pairs input[type="checkbox"]:checked', { state: 'attached' });
      await page.fill('#trainName', 'lab-look');
      await page.fill('#trainSteps', '6');
      await page.click('#trainStart');
      await page.waitForFunction(
        () =>
          (document.querySelector('#lossPlot polyline')?.getAttribute('points') ?? '').split(' ').length >= 2,
        undefined,
        {
          timeout: 90_000,
        },
      );
      await page.waitForSelector('#verdict:not([hidden])', { timeout: 90_000 });
      await page.screenshot({ path: join(shots, 'trainer.png'), fullPage: true });
      await page.click('#promote');
      await page.waitForFunction(() =>
        /promoted/.test(document.getElementById('trainStatus')?.textContent ?? ''),
      );
      expect((await new ModelRegistry(join(dir, 'home', 'models')).promoted('lab-look'))?.version).toBe('v1');
    },
    180_000,
  );
});
