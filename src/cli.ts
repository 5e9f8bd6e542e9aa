#!/usr/bin/env node
import { runChaosProxyCommand } from './chaos/proxy/cli.js';

const USAGE = `Usage: bulwark <command> [options]

Commands:
  chaos-proxy   a TCP proxy that injects network faults (bulwark chaos-proxy --help)`;

/** The first SIGINT or SIGTERM; a second one, with the handlers gone, ends the process. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'chaos-proxy') {
    return runChaosProxyCommand(args, {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
      stopSignal,
    });
  }
  if (command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const problem = command === undefined ? 'no command given' : `unknown command "${command}"`;
  process.stderr.write(`bulwark: ${problem}\n${USAGE}\n`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
