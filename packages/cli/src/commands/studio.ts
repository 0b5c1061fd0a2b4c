import { resolve } from 'node:path';
import { checkRedis, farmRender, redactUrl } from '@framecraft/farm';
import { dataHome } from '@framecraft/pipeline';
import { type Renderer, startStudio } from '@framecraft/studio';

/** `framecraft studio`: serve the studio until interrupted. */
export async function studioCommand(o: {
  port?: number;
  host?: string;
  root?: readonly string[];
  /** Send the queue's renders to the farm behind this Redis address. */
  queue?: string;
  /** With `queue`: a folder every farm worker sees, for work folders. */
  shared?: string;
}): Promise<void> {
  const roots = (o.root ?? [process.cwd()]).map((r) => resolve(r));
  const queue = o.queue;
  if (queue !== undefined) await checkRedis(queue);
  const studio = await startStudio({
    roots,
    dataHome: dataHome(),
    ...(o.port !== undefined && { port: o.port }),
    ...(o.host !== undefined && { host: o.host }),
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    ...(queue !== undefined && {
      render: ((job, options) =>
        farmRender(job, {
          ...options,
          queue,
          ...(o.shared !== undefined && { shared: o.shared }),
        })) satisfies Renderer,
      renderTarget: `the farm at ${redactUrl(queue)}`,
    }),
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
