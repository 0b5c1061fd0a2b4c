// Writes python/train-config.schema.json, the JSON Schema the training script checks its config
// against, from TrainConfigSchema (src/protocol.ts), the one source of truth. The trainer's tests
// fail when the file is out of date: run `bun packages/trainer/scripts/config-schema.ts` then.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from '@valibot/to-json-schema';
import { TrainConfigSchema } from '../src/protocol.ts';

/** The schema file's text. */
export function configSchemaText(): string {
  return `${JSON.stringify(toJsonSchema(TrainConfigSchema), null, 2)}\n`;
}

/** Where the script reads it. */
export const CONFIG_SCHEMA_FILE: string = fileURLToPath(
  new URL('../python/train-config.schema.json', import.meta.url),
);

if (import.meta.main) {
  await writeFile(CONFIG_SCHEMA_FILE, configSchemaText());
  console.log(`wrote ${CONFIG_SCHEMA_FILE}`);
}
