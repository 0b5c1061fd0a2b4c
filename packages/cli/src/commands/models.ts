import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelManifest } from '@framecraft/ml';
import { modelRegistry } from '@framecraft/pipeline';
import { INT8_BOUNDS, quantizeRegistered } from '@framecraft/trainer';
import { UsageError } from '../errors.ts';
import { DEMO_CLIP } from '../sample.ts';

const out = (s: string): void => {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};
const quality = (m: ModelManifest): string => {
  const q = m.quantized;
  if (q === undefined) return '';
  const s = m.metrics?.heldOutSsimMin;
  const p = m.metrics?.heldOutPsnrMin;
  const x = m.metrics?.speedup;
  return `  (int8 from ${q.from}${typeof s === 'number' ? `: SSIM ${s.toFixed(4)}` : ''}${typeof p === 'number' ? `, PSNR ${p.toFixed(1)} dB` : ''}${typeof x === 'number' ? `, ${x.toFixed(2)}x` : ''})`;
};
const line = (m: ModelManifest): string =>
  `${m.name}@${m.version}  ${(m.size / 1048576).toFixed(1)} MiB  ${m.layout} ${m.channels} 0-${m.range}  ${m.sha256.slice(0, 12)}  ${m.description}${m.builtIn !== undefined ? `  (built-in: ${m.builtIn.package}, ${m.builtIn.license})` : ''}${quality(m)}`;

/** `framecraft models list`. */
export async function modelsListCommand(options: { json?: boolean }): Promise<void> {
  const reg = modelRegistry();
  const list = await reg.list();
  const promoted = await reg.promotedVersions();
  if (options.json) return out(JSON.stringify({ folder: reg.dir, models: list, promoted }));
  const installed = new Set(list.filter((m) => m.builtIn === undefined).map((m) => m.name));
  for (const m of list) {
    const shadowed = m.builtIn !== undefined && installed.has(m.name) && promoted[m.name] !== m.version;
    out(
      `${promoted[m.name] === m.version ? '* ' : '  '}${line(m)}${shadowed ? ` (not the default: name it ${m.name}@${m.version})` : ''}`,
    );
  }
  if (Object.keys(promoted).length > 0)
    out('(* = promoted: what renders use when they name the model without a version)');
  const own = list.length - list.filter((m) => m.builtIn !== undefined).length;
  out(`(${own} model version(s) installed in ${reg.dir}, ${list.length - own} built in)`);
}

/** Options of `framecraft models add`. */
export interface ModelsAddOptions {
  readonly name?: string;
  readonly version?: string;
  readonly description?: string;
  readonly layout?: 'nchw' | 'nhwc';
  readonly channels?: 'rgb' | 'bgr';
  readonly range?: string;
  readonly json?: boolean;
}

function layoutOf(o: ModelsAddOptions): Record<string, unknown> {
  if (o.range !== undefined && o.range !== '255' && o.range !== '1')
    throw new UsageError('ERR_USAGE', `--range ${o.range}: expected 255 or 1`);
  return {
    ...(o.layout !== undefined && { layout: o.layout }),
    ...(o.channels !== undefined && { channels: o.channels }),
    ...(o.range !== undefined && { range: Number(o.range) }),
  };
}

/** `framecraft models add <file>`: install a model file as a new version (ONNX Runtime must load it). */
export async function modelsAddCommand(file: string, options: ModelsAddOptions): Promise<void> {
  const name = options.name ?? (file.split('/').pop() ?? file).replace(/\.onnx$/i, '').toLowerCase();
  const m = await modelRegistry().add(file, {
    name,
    ...(options.version !== undefined && { version: options.version }),
    ...(options.description !== undefined && { description: options.description }),
    layout: layoutOf(options),
  });
  out(options.json ? JSON.stringify({ event: 'added', model: m }) : `Added ${line(m)}`);
}

/** An entry of the models catalog (`<data home>/models/catalog.json`). */
export interface CatalogEntry {
  readonly url: string;
  readonly sha256: string;
  readonly description?: string;
  readonly layout?: 'nchw' | 'nhwc';
  readonly channels?: 'rgb' | 'bgr';
  readonly range?: 255 | 1;
}

/**
 * Where `models download <name>` finds a model: `catalog.json` in the models folder, mapping names
 * to `{ url, sha256, description?, layout?, channels?, range? }` (nothing is built in: this toolkit
 * ships no third-party URLs or checksums it cannot vouch for).
 */
async function catalogEntry(name: string): Promise<CatalogEntry> {
  const file = join(modelRegistry().dir, 'catalog.json');
  let catalog: Record<string, CatalogEntry>;
  try {
    catalog = JSON.parse(await readFile(file, 'utf8')) as Record<string, CatalogEntry>;
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'does not exist'
        : `is not JSON (${(err as Error).message})`;
    throw new UsageError(
      'ERR_USAGE',
      `models download ${name}: give a URL, or list "${name}" in ${file} (it ${why})`,
    );
  }
  const entry = catalog[name];
  if (entry === undefined || typeof entry.url !== 'string' || typeof entry.sha256 !== 'string')
    throw new UsageError(
      'ERR_USAGE',
      `models download ${name}: ${file} has no entry "${name}" with url and sha256 (entries: ${Object.keys(catalog).join(', ') || 'none'})`,
    );
  return entry;
}

/** `framecraft models download <name | url> [--name … --sha256 …]`. */
export async function modelsDownloadCommand(
  source: string,
  options: ModelsAddOptions & { sha256?: string },
): Promise<void> {
  const isUrl = /^[a-z]+:\/\//i.test(source);
  const entry: CatalogEntry | null = isUrl ? null : await catalogEntry(source);
  const url = entry?.url ?? source;
  const sha256 = options.sha256 ?? entry?.sha256;
  const name = options.name ?? (isUrl ? undefined : source);
  if (name === undefined) throw new UsageError('ERR_USAGE', 'models download <url> needs --name');
  if (sha256 === undefined) throw new UsageError('ERR_USAGE', 'models download <url> needs --sha256');
  const description = options.description ?? entry?.description;
  let last = 0;
  const m = await modelRegistry().download(url, {
    name,
    sha256,
    ...(options.version !== undefined && { version: options.version }),
    ...(description !== undefined && { description }),
    layout: {
      ...(entry?.layout !== undefined && { layout: entry.layout }),
      ...(entry?.channels !== undefined && { channels: entry.channels }),
      ...(entry?.range !== undefined && { range: entry.range }),
      ...layoutOf(options),
    },
    onProgress: (received, total) => {
      if (options.json || Date.now() - last < 500) return;
      last = Date.now();
      process.stderr.write(
        `download: ${(received / 1048576).toFixed(1)}${total ? ` / ${(total / 1048576).toFixed(1)}` : ''} MiB\n`,
      );
    },
  });
  out(options.json ? JSON.stringify({ event: 'added', model: m }) : `Downloaded and added ${line(m)}`);
}

/** `framecraft models verify`: exit 1 when a file no longer matches its manifest. */
export async function modelsVerifyCommand(options: { json?: boolean }): Promise<void> {
  const results = await modelRegistry().verify();
  if (options.json) out(JSON.stringify({ results }));
  else
    for (const r of results)
      out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}@${r.version}${r.reason ? `: ${r.reason}` : ''}`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

/** `framecraft models remove <name> [--version v]`. */
export async function modelsRemoveCommand(
  name: string,
  options: { version?: string; json?: boolean },
): Promise<void> {
  await modelRegistry().remove(name, options.version);
  out(
    options.json
      ? JSON.stringify({ event: 'removed', name, version: options.version ?? null })
      : `Removed ${name}${options.version ? `@${options.version}` : ' (every version)'}.`,
  );
}

/**
 * `framecraft models promote <name@version>`: make that version the one used when renders name the
 * model without a version.
 */
export async function modelsPromoteCommand(ref: string, options: { json?: boolean }): Promise<void> {
  const [name = '', version] = ref.split('@');
  if (version === undefined || version === '')
    throw new UsageError('ERR_USAGE', `"${ref}": give the version to promote as name@version`);
  const record = await modelRegistry().promote(name, version, 'promoted by hand');
  out(options.json ? JSON.stringify({ event: 'promoted', name, ...record }) : `Promoted ${name}@${version}.`);
}

/** Options of `framecraft models quantize`. */
export interface ModelsQuantizeOptions {
  readonly calibrate?: readonly string[];
  readonly frames?: number;
  readonly height?: number;
  readonly promote?: 'auto' | 'never' | 'always';
  readonly json?: boolean;
}

/**
 * `framecraft models quantize <name[@version]> [--calibrate clip …]`: an int8 version of a float
 * model, calibrated on frames of the clips (the built-in sample when none are given), registered as
 * the next version with its measured quality and promoted when it holds the bounds.
 */
export async function modelsQuantizeCommand(ref: string, options: ModelsQuantizeOptions): Promise<void> {
  const clips =
    options.calibrate !== undefined && options.calibrate.length > 0 ? options.calibrate : [DEMO_CLIP];
  if (!options.json && options.calibrate === undefined)
    process.stderr.write(
      'quantize: calibrating on the built-in sample; --calibrate <your clips> fits your footage better\n',
    );
  const result = await quantizeRegistered({
    registry: modelRegistry(),
    model: ref,
    clips,
    ...(options.frames !== undefined && { framesPerClip: options.frames }),
    ...(options.height !== undefined && { height: options.height }),
    ...(options.promote !== undefined && { promote: options.promote }),
    onProgress: (message) => {
      if (options.json) process.stderr.write(`${JSON.stringify({ event: 'progress', message })}\n`);
      else process.stderr.write(`quantize: ${message}\n`);
    },
  });
  if (options.json) return out(JSON.stringify({ event: 'quantized', ...result, bounds: INT8_BOUNDS }));
  out(`Added ${line(result.manifest)}`);
  out(
    `${result.promoted ? 'Promoted' : 'Not promoted'}: ${result.reason}. ${result.manifest.name}@${result.manifest.quantized?.from} still names the float model.`,
  );
}
