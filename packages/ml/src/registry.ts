import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MlError } from './errors.ts';
import type { TensorLayout } from './layout.ts';
import { ZOO_LAYOUT } from './layout.ts';
import { OnnxSession } from './session.ts';

/** What the registry records about a model version (`manifest.json` beside `model.onnx`). */
export interface ModelManifest {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly layout: TensorLayout['layout'];
  readonly channels: TensorLayout['channels'];
  readonly range: TensorLayout['range'];
  readonly sha256: string;
  readonly size: number;
  /** Where it came from: a file path or a URL. */
  readonly source: string;
  readonly added: string;
  /** Inputs as the model declares them, recorded at registration. */
  readonly inputs: readonly { name: string; shape: readonly (number | string)[] }[];
  /** Quality figures recorded at registration (for example a trainer's validation loss and SSIM). */
  readonly metrics?: Readonly<Record<string, number | null>>;
  /** What it was made from, for a trained model: base model, dataset, steps… */
  readonly training?: Readonly<Record<string, unknown>>;
  /** Set for a model that ships in a package (see {@link BuiltInModel}). */
  readonly builtIn?: { readonly package: string; readonly license: string };
  /** Set for a version made by quantizing another (see {@link QuantizedFrom}). */
  readonly quantized?: QuantizedFrom;
}

/** How a quantized version was made. */
export interface QuantizedFrom {
  /** The float version it was made from. */
  readonly from: string;
  readonly precision: 'int8';
  /** QDQ: QuantizeLinear/DequantizeLinear around each convolution, which ONNX Runtime fuses. */
  readonly format: 'qdq';
  /** Convolutions in int8. */
  readonly int8Nodes: number;
  /** Convolutions kept in float, and why. */
  readonly floatNodes: readonly { readonly node: string; readonly why: string }[];
  /** The frames activation ranges were measured on. */
  readonly calibration: {
    readonly clips: readonly string[];
    readonly frames: number;
    readonly height: number;
  };
}

/**
 * A model that ships inside an npm package (for example `@framecraft/model-mosaic`): found by the
 * registry without being installed, never copied or removed; a model the user adds under the same
 * name takes its place.
 */
export interface BuiltInModel {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** Absolute path of the .onnx file inside its package. */
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly layout: TensorLayout;
  readonly inputs: readonly { name: string; shape: readonly (number | string)[] }[];
  /** The npm package it comes from. */
  readonly package: string;
  /** SPDX licence of the weights. */
  readonly license: string;
  /** Where the weights come from. */
  readonly source: string;
}

/** A registered model as users name it: `name` (the promoted or newest version) or `name@version`. */
export interface ModelRef {
  readonly name: string;
  /** The version asked for; undefined for the promoted or newest one. */
  readonly version: string | undefined;
}

/** One installed version of a model: its manifest and its .onnx file. */
export interface ResolvedModel {
  readonly manifest: ModelManifest;
  readonly path: string;
}

/** Options of the {@link ModelRegistry} constructor. */
export interface ModelRegistryOptions {
  /** Models that ship in packages, listed and resolved beside the installed ones. */
  readonly builtIn?: readonly BuiltInModel[];
}

/** The promoted version of a model (`<dir>/<name>/current.json`). */
export interface PromotedVersion {
  readonly version: string;
  readonly promoted: string;
  readonly reason: string;
}

/** Options of {@link ModelRegistry.add}. */
export interface AddModelOptions {
  readonly name: string;
  /** `v1`, `v2`, … after the newest by default. */
  readonly version?: string;
  readonly description?: string;
  readonly layout?: Partial<TensorLayout>;
  readonly source?: string;
  readonly metrics?: Readonly<Record<string, number | null>>;
  readonly training?: Readonly<Record<string, unknown>>;
  readonly quantized?: QuantizedFrom;
}

/** Options of {@link ModelRegistry.download}. */
export interface DownloadOptions extends AddModelOptions {
  /** Expected SHA-256 (hex); a mismatch installs nothing. */
  readonly sha256: string;
  readonly onProgress?: (received: number, total: number | null) => void;
  readonly signal?: AbortSignal;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * Check a model name before anything is done under it (a trainer checks before training, not
 * after).
 *
 * @param name - The name.
 * @throws {FramecraftError} `ERR_MODEL_NAME` saying which names are allowed.
 */
export function checkModelName(name: string): void {
  if (!NAME.test(name))
    throw new MlError(
      'ERR_MODEL_NAME',
      `"${name}" is not a model name: lower-case letters, digits, '.', '_' and '-'`,
    );
}

/** What a reference may look like: a name, then optionally `@` and a version without `/` or `@`. */
const REF = /^[a-z0-9][a-z0-9._-]*(@[^@/]+)?$/;

/**
 * Read a model reference (`name` or `name@version`).
 *
 * @param text - What the user wrote.
 * @returns The name and version, or null when the text cannot be a reference (a path, say).
 * @example
 * parseModelRef('mosaic@2'); // { name: 'mosaic', version: '2' }
 * parseModelRef('./style.onnx'); // null
 */
export function parseModelRef(text: string): ModelRef | null {
  if (!REF.test(text)) return null;
  const [name = '', version] = text.split('@');
  return { name, version };
}

function builtInManifest(m: BuiltInModel): ModelManifest {
  return {
    name: m.name,
    version: m.version,
    description: m.description,
    layout: m.layout.layout,
    channels: m.layout.channels,
    range: m.layout.range,
    sha256: m.sha256,
    size: m.size,
    source: m.source,
    added: '',
    inputs: m.inputs,
    builtIn: { package: m.package, license: m.license },
  };
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const block of createReadStream(path)) h.update(block as Buffer);
  return h.digest('hex');
}

/**
 * Versioned models in a folder: `<dir>/<name>/<version>/model.onnx` plus `manifest.json`
 * (layout, range, sha256, size, source, inputs). Adding copies the file in, checks that ONNX
 * Runtime loads it and installs the version atomically (a temporary folder renamed into place).
 */
export class ModelRegistry {
  /** The models folder. */
  readonly dir: string;
  readonly #builtIn: readonly BuiltInModel[];

  /**
   * @param dir - The models folder (`<data home>/models`).
   * @param options - Built-in models.
   */
  constructor(dir: string, options: ModelRegistryOptions = {}) {
    this.dir = dir;
    this.#builtIn = options.builtIn ?? [];
  }

  /** @returns Every installed version, by name then version, then the built-in models (`builtIn` set). */
  async list(): Promise<ModelManifest[]> {
    const out: ModelManifest[] = [];
    if (existsSync(this.dir))
      for (const name of (await readdir(this.dir)).sort()) {
        if (!NAME.test(name)) continue;
        for (const version of await this.#versions(name)) {
          const manifest = join(this.dir, name, version, 'manifest.json');
          if (existsSync(manifest)) out.push(JSON.parse(await readFile(manifest, 'utf8')) as ModelManifest);
        }
      }
    return [...out, ...this.#builtIn.map(builtInManifest)];
  }

  /**
   * The built-in model of this name when it answers for `version`: by its own version when no
   * installed version has that name, or (no version asked) when nothing of the name is installed
   * and nothing else is promoted (installed versions win).
   */
  async #builtInFor(name: string, version: string | undefined): Promise<BuiltInModel | undefined> {
    const model = this.#builtIn.find((m) => m.name === name);
    if (model === undefined) return undefined;
    const versions = await this.#versions(name);
    if (version !== undefined)
      return version === model.version && !versions.includes(version) ? model : undefined;
    return versions.length === 0 ? model : undefined;
  }

  #refuseBuiltIn(name: string, what: string): never {
    const m = this.#builtIn.find((b) => b.name === name);
    throw new MlError(
      'ERR_MODEL_BUILT_IN',
      `"${name}" is a built-in model (from ${m?.package ?? 'a package'}); it cannot be ${what}. A model you add under the same name takes its place.`,
    );
  }

  async #versions(name: string): Promise<string[]> {
    const d = join(this.dir, name);
    if (!existsSync(d)) return [];
    const entries = (await readdir(d, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name);
    return entries.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  }

  /**
   * The promoted version of a model, if one was promoted (and is still installed).
   *
   * @param name - Model name.
   * @returns The promotion record, or null when none is in force.
   */
  async promoted(name: string): Promise<PromotedVersion | null> {
    const file = join(this.dir, name, 'current.json');
    if (!existsSync(file)) return null;
    const p = JSON.parse(await readFile(file, 'utf8')) as PromotedVersion;
    const installed = existsSync(join(this.dir, name, p.version, 'manifest.json'));
    return installed || (await this.#builtInFor(name, p.version)) !== undefined ? p : null;
  }

  /**
   * Which version of each model is promoted.
   *
   * @returns Model name → promoted version, for the models that have one.
   */
  async promotedVersions(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const name of new Set((await this.list()).map((m) => m.name))) {
      const p = await this.promoted(name);
      if (p !== null) out[name] = p.version;
    }
    return out;
  }

  /**
   * Make a version the one that `resolve(name)` (no version) returns, and so the one renders use:
   * a render that names the model picks it up at its next chunk. Written atomically.
   *
   * @param name - Model name.
   * @param version - An installed version.
   * @param reason - Why, kept in the record (for example the validation figures).
   * @throws {FramecraftError} `ERR_MODEL_NOT_FOUND`.
   */
  async promote(name: string, version: string, reason = ''): Promise<PromotedVersion> {
    // A built-in model can be promoted back over versions installed beside it (its quantized
    // version, say), not when it is the only one.
    if (
      (await this.resolve(name, version)).manifest.builtIn !== undefined &&
      (await this.#versions(name)).length === 0
    )
      this.#refuseBuiltIn(name, 'promoted (it has one version)');
    await mkdir(join(this.dir, name), { recursive: true });
    const record: PromotedVersion = { version, promoted: new Date().toISOString(), reason };
    const file = join(this.dir, name, 'current.json');
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
    await rename(tmp, file);
    return record;
  }

  /**
   * Find a model.
   *
   * @param name - Model name.
   * @param version - A version; by default the promoted one, or the newest when none was promoted.
   * @returns Its manifest and model path.
   * @throws {FramecraftError} `ERR_MODEL_NOT_FOUND` listing what is installed.
   */
  async resolve(name: string, version?: string): Promise<ResolvedModel> {
    const v = version ?? (await this.promoted(name))?.version;
    const builtIn = await this.#builtInFor(name, v);
    if (builtIn !== undefined) return { manifest: builtInManifest(builtIn), path: builtIn.path };
    const versions = await this.#versions(name);
    const chosen = v ?? versions.at(-1);
    const dir = chosen === undefined ? null : join(this.dir, name, chosen);
    if (dir === null || !existsSync(join(dir, 'manifest.json'))) {
      const all = (await this.list()).map((m) => `${m.name}@${m.version}`);
      throw new MlError(
        'ERR_MODEL_NOT_FOUND',
        `No model "${name}"${version ? ` version ${version}` : ''} in ${this.dir}. Installed: ${all.join(', ') || 'none'}.`,
      );
    }
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;
    return { manifest, path: join(dir, 'model.onnx') };
  }

  /**
   * Find a model from a reference as users write it: `name` (the promoted or newest version) or
   * `name@version`.
   *
   * @param ref - The reference.
   * @returns Its manifest and model path.
   * @throws {FramecraftError} `ERR_MODEL_NOT_FOUND` listing what is installed.
   */
  resolveRef(ref: string): Promise<ResolvedModel> {
    // Text that is no reference is still split at '@', so the error names what was asked for.
    const [name = '', version] = ref.split('@');
    return this.resolve(name, version);
  }

  /**
   * Install a model file as a new version, after ONNX Runtime has loaded it.
   *
   * @param file - The .onnx file.
   * @param options - Name, version, description, layout, source.
   * @returns The installed version's manifest.
   * @throws {FramecraftError} `ERR_MODEL_NAME`, `ERR_MODEL_EXISTS`; `ERR_MODEL_LOAD` when it is not a loadable model.
   */
  async add(file: string, options: AddModelOptions): Promise<ModelManifest> {
    checkModelName(options.name);
    // Numbered after the installed versions and after a built-in model of the name, so that
    // `name@<built-in version>` keeps naming the built-in one.
    const taken = [
      ...(await this.#versions(options.name)),
      ...this.#builtIn.filter((m) => m.name === options.name).map((m) => m.version),
    ];
    const version =
      options.version ??
      `v${taken.length === 0 ? 1 : Math.max(...taken.map((v) => Number(v.replace(/^v/, '')) || 0)) + 1}`;
    if (this.#builtIn.some((m) => m.name === options.name && m.version === version))
      throw new MlError('ERR_MODEL_EXISTS', `${options.name} ${version} is the built-in model's version`);
    const target = join(this.dir, options.name, version);
    if (existsSync(target))
      throw new MlError('ERR_MODEL_EXISTS', `${options.name} ${version} is already installed (${target})`);
    const session = await OnnxSession.create(file, { provider: 'cpu' });
    const inputs = session.inputs.map((i) => ({ name: i.name, shape: i.shape }));
    await session.close();
    const tmp = join(this.dir, options.name, `.adding-${process.pid}-${version}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    try {
      await writeFile(join(tmp, 'model.onnx'), await readFile(file));
      const manifest: ModelManifest = {
        name: options.name,
        version,
        description: options.description ?? '',
        layout: options.layout?.layout ?? ZOO_LAYOUT.layout,
        channels: options.layout?.channels ?? ZOO_LAYOUT.channels,
        range: options.layout?.range ?? ZOO_LAYOUT.range,
        sha256: await sha256Of(join(tmp, 'model.onnx')),
        size: (await stat(join(tmp, 'model.onnx'))).size,
        source: options.source ?? file,
        added: new Date().toISOString(),
        inputs,
        ...(options.metrics !== undefined && { metrics: options.metrics }),
        ...(options.training !== undefined && { training: options.training }),
        ...(options.quantized !== undefined && { quantized: options.quantized }),
      };
      await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      await rename(tmp, target);
      return manifest;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Check every installed version's file against its manifest (size and SHA-256).
   *
   * @returns One verdict per version.
   */
  async verify(): Promise<{ name: string; version: string; ok: boolean; reason: string | null }[]> {
    const out = [];
    for (const m of await this.list()) {
      const path =
        this.#builtIn.find((b) => m.builtIn !== undefined && b.name === m.name)?.path ??
        join(this.dir, m.name, m.version, 'model.onnx');
      let reason: string | null = null;
      if (!existsSync(path)) reason = 'model.onnx is missing';
      else if ((await stat(path)).size !== m.size)
        reason = `size ${(await stat(path)).size} instead of ${m.size}`;
      else if ((await sha256Of(path)) !== m.sha256) reason = 'sha256 differs from the manifest';
      out.push({ name: m.name, version: m.version, ok: reason === null, reason });
    }
    return out;
  }

  /**
   * Remove a version, or every version of a model.
   *
   * @param name - Model name.
   * @param version - One version; all by default.
   * @throws {FramecraftError} `ERR_MODEL_NOT_FOUND`.
   */
  async remove(name: string, version?: string): Promise<void> {
    if ((await this.resolve(name, version)).manifest.builtIn !== undefined)
      this.#refuseBuiltIn(name, 'removed');
    await rm(join(this.dir, name, ...(version ? [version] : [])), { recursive: true, force: true });
    // A promotion of a version that is gone no longer holds (promoted() also checks).
    if (version !== undefined && (await this.promoted(name)) === null)
      await rm(join(this.dir, name, 'current.json'), { force: true });
  }

  /**
   * Download a model over HTTP(S) and install it: progress, resume of a broken download (range
   * requests on the `.part` file kept in the models folder), SHA-256 check, atomic install.
   *
   * @param url - Where the .onnx file is.
   * @param options - Expected SHA-256, name, version, progress, abort.
   * @returns The installed manifest.
   * @throws {FramecraftError} `ERR_DOWNLOAD` (the partial file stays for a resume), `ERR_MODEL_CHECKSUM` (nothing kept).
   */
  async download(url: string, options: DownloadOptions): Promise<ModelManifest> {
    checkModelName(options.name);
    await mkdir(this.dir, { recursive: true });
    const part = join(this.dir, `.${options.name}-${options.sha256.slice(0, 16)}.part`);
    const have = existsSync(part) ? (await stat(part)).size : 0;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: have > 0 ? { Range: `bytes=${have}-` } : {},
        ...(options.signal !== undefined && { signal: options.signal }),
      });
    } catch (err) {
      throw new MlError('ERR_DOWNLOAD', `Download of ${url} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (!res.ok) throw new MlError('ERR_DOWNLOAD', `Download of ${url} failed: HTTP ${res.status}`);
    if (res.body === null)
      throw new MlError('ERR_DOWNLOAD', `Download of ${url} failed: the answer has no body`);
    const resumed = res.status === 206 && have > 0;
    const length = Number(res.headers.get('content-length') ?? Number.NaN);
    const total = Number.isFinite(length) ? length + (resumed ? have : 0) : null;
    const out = createWriteStream(part, { flags: resumed ? 'a' : 'w' });
    let received = resumed ? have : 0;
    const body = res.body.getReader();
    try {
      for (let next = await body.read(); !next.done; next = await body.read()) {
        const chunk = next.value;
        received += chunk.length;
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        options.onProgress?.(received, total);
      }
    } catch (err) {
      throw new MlError(
        'ERR_DOWNLOAD',
        `Download of ${url} broke off after ${received} bytes (${(err as Error).message}); run it again to resume`,
        { cause: err },
      );
    } finally {
      await new Promise<void>((r) => out.end(() => r()));
    }
    if (total !== null && received < total)
      throw new MlError(
        'ERR_DOWNLOAD',
        `Download of ${url} broke off after ${received} of ${total} bytes; run it again to resume`,
      );
    const sum = await sha256Of(part);
    if (sum !== options.sha256.toLowerCase()) {
      await rm(part, { force: true });
      throw new MlError(
        'ERR_MODEL_CHECKSUM',
        `Download of ${url}: sha256 ${sum}, expected ${options.sha256}; nothing was installed`,
      );
    }
    try {
      return await this.add(part, { ...options, source: url });
    } finally {
      await rm(part, { force: true });
    }
  }
}
