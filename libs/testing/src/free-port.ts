import { createServer } from 'node:net';

// Below Linux's ephemeral range (32768-60999 by default), so no outgoing
// connection of a test running beside this one is handed the port between
// now and the moment the child process binds it.
const FIRST = 20_000;
const LAST = 32_767;

function bindable(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A loopback port that was free a moment ago, for a child process that must
 * be told its port up front. It is picked at random outside the ephemeral
 * range; another test picking the same one in between is the remaining,
 * small, chance.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST + 1));
    if (await bindable(port)) return port;
  }
}
