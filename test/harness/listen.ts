// Binds a Node server to an ephemeral port on 127.0.0.1 and returns the port the OS chose.

import type { AddressInfo, Server } from 'node:net';

export async function listenLoopback(server: Pick<Server, 'listen' | 'address'>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
