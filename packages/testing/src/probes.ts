/**
 * A service's probes while a dependency is away behind `startTcpProxy`, and once it is back:
 * the tests of "started while Kafka (Mongo, Redis) is away" in every service.
 */
import { waitFor } from './index.ts';
import type { TcpProxy } from './tcp-proxy.ts';

export interface ProbeAnswer {
  status: number;
  body: unknown;
}

async function probe(url: string): Promise<ProbeAnswer> {
  const answer = await fetch(url);
  return { status: answer.status, body: await answer.json() };
}

/** Once the service has tried `proxy`'s server and been refused (the marker): its /healthz and /readyz answers. */
export async function probesWhileAway(url: string, proxy: TcpProxy, timeoutMs = 30_000): Promise<{ healthz: ProbeAnswer; readyz: ProbeAnswer }> {
  await waitFor(() => (proxy.refused > 0 ? true : undefined), `a connection to ${proxy.address} refused`, timeoutMs);
  return { healthz: await probe(`${url}/healthz`), readyz: await probe(`${url}/readyz`) };
}

/** Polls `/readyz` until it answers 200; resolves with its body. */
export function untilReady(url: string, timeoutMs = 60_000): Promise<unknown> {
  return waitFor(async () => {
    const { status, body } = await probe(`${url}/readyz`);
    return status === 200 ? body : undefined;
  }, `${url} to be ready`, timeoutMs, 100);
}
