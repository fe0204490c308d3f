import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServeOptions {
  /** Each response ends its connection after this many body bytes, as a flaky link does. */
  cutAfter?: number;
  /** Pace of the body, so a test can act while a download is under way. */
  bytesPerSecond?: number;
  /** Answer every request with the whole file (200), as a server without Range support does. */
  ignoreRange?: boolean;
  /** Send no Content-Length (chunked), so only the bytes themselves can show the size. */
  chunked?: boolean;
  /** Answer with this status and no body. */
  status?: number;
}

export interface PackageServer {
  url: string;
  /** Serves `bytes` at `path` from now on; resolves to its URL. */
  serve(path: string, bytes: Buffer, options?: ServeOptions): string;
  /** Every request seen: its path, Range and Authorization headers. */
  requests: { path: string; range?: string; authorization?: string }[];
  stop(): Promise<void>;
}

const CHUNK = 16 * 1024;

/**
 * A package server on a loopback port, for download tests: it honours
 * `Range: bytes=N-` with 206 (RFC 9110 section 14), and can cut, slow down
 * or misdescribe its answers as real networks and servers do.
 */
export async function startPackageServer(): Promise<PackageServer> {
  const served = new Map<string, { bytes: Buffer; options: ServeOptions }>();
  const requests: PackageServer['requests'] = [];
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push({
      path,
      ...(request.headers.range ? { range: request.headers.range } : {}),
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
    });
    const entry = served.get(path);
    if (!entry) return void response.writeHead(404).end();
    void answer(request, response, entry.bytes, entry.options);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    serve: (path, bytes, options = {}) => {
      served.set(path, { bytes, options });
      return `${url}${path}`;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function answer(request: IncomingMessage, response: ServerResponse, bytes: Buffer, options: ServeOptions): Promise<void> {
  if (options.status) return void response.writeHead(options.status).end();
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
  const start = range && !options.ignoreRange ? Number(range[1]) : 0;
  if (start >= bytes.length && start > 0) return void response.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` }).end();
  const headers: Record<string, string> = { 'Content-Type': 'application/x-tar', 'Accept-Ranges': 'bytes' };
  if (!options.chunked) headers['Content-Length'] = String(bytes.length - start);
  if (start > 0) headers['Content-Range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
  response.writeHead(start > 0 ? 206 : 200, headers);
  let sent = 0;
  for (let offset = start; offset < bytes.length; offset += CHUNK) {
    if (response.destroyed) return;
    const chunk = bytes.subarray(offset, Math.min(bytes.length, offset + CHUNK));
    if (options.cutAfter !== undefined && sent + chunk.length > options.cutAfter) {
      response.write(chunk.subarray(0, options.cutAfter - sent));
      // Let the partial chunk leave before the socket goes.
      await new Promise((resolve) => setTimeout(resolve, 20));
      response.socket?.destroy();
      return;
    }
    response.write(chunk);
    sent += chunk.length;
    if (options.bytesPerSecond) await new Promise((resolve) => setTimeout(resolve, (chunk.length / options.bytesPerSecond!) * 1_000));
  }
  response.end();
}
