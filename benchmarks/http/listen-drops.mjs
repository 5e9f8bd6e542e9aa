/** The kernel's count of connections it dropped because a listen queue was full. */
import { readFileSync } from 'node:fs';

/**
 * `TcpExt ListenOverflows` from /proc/net/netstat: machine-wide, so read it around a run on a
 * loopback server to see how many of the run's connections the kernel refused to queue.
 * Undefined where there is no such file (not Linux).
 */
export function listenOverflows() {
  try {
    const rows = readFileSync('/proc/net/netstat', 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('TcpExt:'))
      .map((line) => line.trim().split(/\s+/));
    const at = rows[0]?.indexOf('ListenOverflows') ?? -1;
    return at === -1 ? undefined : Number(rows[1][at]);
  } catch {
    return undefined;
  }
}
