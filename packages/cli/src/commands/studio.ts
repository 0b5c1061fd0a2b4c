import { resolve } from 'node:path';
import { dataHome } from '@framecraft/pipeline';
import { startStudio } from '@framecraft/studio';

/** `framecraft studio`: serve the studio until interrupted. */
export async function studioCommand(o: {
  port?: number;
  host?: string;
  root?: readonly string[];
}): Promise<void> {
  const roots = (o.root ?? [process.cwd()]).map((r) => resolve(r));
  const studio = await startStudio({
    roots,
    dataHome: dataHome(),
    ...(o.port !== undefined && { port: o.port }),
    ...(o.host !== undefined && { host: o.host }),
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  process.stdout.write(
    `Framecraft Studio on ${studio.url} (folders: ${roots.join(', ')}); Ctrl-C stops it\n`,
  );
  await new Promise<void>((done) => {
    const stop = (): void => {
      void studio.close().then(done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
