/**
 * A dependency that is away, then back, without stopping the shared server: a TCP proxy in
 * front of it that resets every connection until `forward()`, then pipes connections through.
 * (A Kafka client reaches the broker through it only to bootstrap: then it follows the
 * broker's advertised address.)
 */
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** `127.0.0.1:<port>`: give it to the client instead of the server's address. */
  address: string;
  /** Connections reset so far (a client tried while the server was "away"). */
  readonly refused: number;
  /** Connections forwarded so far. */
  readonly forwarded: number;
  /** From now on, connections go through to the target. */
  forward(): void;
  /** From now on, connections are reset; open ones are cut. */
  refuse(): void;
  close(): Promise<void>;
}

/** A proxy to `target` (`host:port`), refusing until `forward()`. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const open = new Set<Socket>();
  let forwarding = false;
  let refused = 0;
  let forwarded = 0;

  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  };
  const server = createServer((client) => {
    if (!forwarding) {
      refused += 1;
      client.resetAndDestroy();
      return;
    }
    forwarded += 1;
    const upstream = createConnection({ host, port });
    track(client);
    track(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: proxyPort } = server.address() as { port: number };

  const cut = () => {
    for (const socket of open) socket.destroy();
  };
  return {
    address: `127.0.0.1:${proxyPort}`,
    get refused() {
      return refused;
    },
    get forwarded() {
      return forwarded;
    },
    forward() {
      forwarding = true;
    },
    refuse() {
      forwarding = false;
      cut();
    },
    async close() {
      forwarding = false;
      cut();
      server.close();
      await once(server, 'close');
    },
  };
}
