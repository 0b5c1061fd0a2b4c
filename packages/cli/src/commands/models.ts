import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelManifest, ModelRegistry } from '@framecraft/ml';
import { dataHome } from '@framecraft/pipeline';
import { UsageError } from '../errors.ts';

/** The registry in the data folder: `<FRAMECRAFT_HOME or ~/.framecraft>/models`. */
export function modelRegistry(): ModelRegistry {
  return new ModelRegistry(join(dataHome(), 'models'));
}

/**
 * Turn `--model` into style options: an existing file is used as is; otherwise it names a model in
 * the registry (`name` or `name@version`), whose path and tensor layout are taken from its manifest.
 *
 * @param model - A path or a registry name.
 * @returns Style options for the neural style.
 */
export async function modelOptions(model: string): Promise<Record<string, unknown>> {
  if (existsSync(model)) return { model };
  const [name = '', version] = model.split('@');
  const { manifest, path } = await modelRegistry().resolve(name, version);
  return { model: path, layout: manifest.layout, channels: manifest.channels, range: manifest.range };
}

const out = (s: string): void => {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
};
const line = (m: ModelManifest): string =>
  `${m.name}@${m.version}  ${(m.size / 1048576).toFixed(1)} MiB  ${m.layout} ${m.channels} 0-${m.range}  ${m.sha256.slice(0, 12)}  ${m.description}`;

/** `framecraft models list`. */
export async function modelsListCommand(options: { json?: boolean }): Promise<void> {
  const reg = modelRegistry();
  const list = await reg.list();
  if (options.json) return out(JSON.stringify({ folder: reg.dir, models: list }));
  for (const m of list) out(line(m));
  out(`(${list.length} model version(s) in ${reg.dir})`);
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

/** `framecraft models download <url> --name … --sha256 …`. */
export async function modelsDownloadCommand(
  url: string,
  options: ModelsAddOptions & { sha256: string },
): Promise<void> {
  if (options.name === undefined) throw new UsageError('ERR_USAGE', 'models download needs --name');
  let last = 0;
  const m = await modelRegistry().download(url, {
    name: options.name,
    sha256: options.sha256,
    ...(options.version !== undefined && { version: options.version }),
    ...(options.description !== undefined && { description: options.description }),
    layout: layoutOf(options),
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
