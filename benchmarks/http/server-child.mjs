/**
 * One benchmark server in a process of its own: `node server-child.mjs <family> <variant>
 * <settings JSON>`, started with an IPC channel. It sends `{ port }` once listening, answers
 * `usage` with the CPU time it has used so far, and closes on `stop`.
 */
import { serverVariants } from './servers/index.mjs';

const [familyId, variantId, settings] = process.argv.slice(2);
const variant = serverVariants[familyId]?.find((v) => v.id === variantId);
if (variant === undefined) throw new Error(`no server ${familyId}/${variantId}`);

const server = await variant.make(JSON.parse(settings ?? '{}'));
process.on('message', async (message) => {
  if (message === 'usage') {
    const { user, system } = process.cpuUsage();
    process.send({ cpuMs: (user + system) / 1000, atMs: performance.now() });
  } else if (message === 'stop') {
    await server.close();
    process.disconnect();
  }
});
process.send({ port: server.port });
