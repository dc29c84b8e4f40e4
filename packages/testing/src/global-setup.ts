// Fails the run early, with the command to fix it, when the local stack is not reachable.
import { createConnection } from 'node:net';
import { stackAddresses } from './index.ts';

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 2000 });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
  });
}

export default async function checkStack(): Promise<void> {
  const addresses = stackAddresses();
  const missing: string[] = [];
  for (const [name, hostPort] of Object.entries(addresses.endpoints)) {
    const [host, port] = hostPort.split(':') as [string, string];
    if (!(await reachable(host, Number(port)))) missing.push(`${name} (${hostPort})`);
  }
  if (missing.length > 0) {
    throw new Error(`local stack not reachable: ${missing.join(', ')}. Start it with: bash scripts/stack.sh up (or run the tests with ./pushtech test)`);
  }
}
