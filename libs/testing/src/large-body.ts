import http from 'node:http';

const CHUNK = Buffer.alloc(1024 * 1024);
const CUT_OFF = new Set(['EPIPE', 'ECONNRESET']);

/** The server's answer, or `closed` when it closed the connection on the upload before its answer was read. */
export type LargeBodyAnswer = { status: number; body: string } | 'closed';

/**
 * POSTs `bytes` of zeros with the given content type, written as the
 * server reads them, and resolves with the server's answer once the upload
 * is over too (sent whole, or cut off by the server). A server that
 * answers early and closes the connection ends the upload; that is not a
 * failure here, only a failure before any answer is.
 */
export function postLargeBody(url: string, options: { bytes: number; contentType: string; headers?: Record<string, string> }): Promise<LargeBodyAnswer> {
  return new Promise((resolve, reject) => {
    let answer: LargeBodyAnswer | undefined;
    const request = http.request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': options.contentType, 'content-length': String(options.bytes), ...options.headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => (answer = { status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', (error) => (answer ? undefined : reject(error)));
      },
    );
    request.on('error', (error) => {
      // A server that refuses a body it will not read may answer and close while we still write; the answer can be lost then.
      if (!answer && CUT_OFF.has((error as NodeJS.ErrnoException).code ?? '')) answer = 'closed';
      if (!answer) reject(error);
    });
    request.on('close', () => (answer ? resolve(answer) : reject(new Error('the connection closed before an answer came'))));
    let sent = 0;
    const write = () => {
      while (sent < options.bytes && !request.destroyed) {
        const chunk = CHUNK.subarray(0, Math.min(CHUNK.length, options.bytes - sent));
        sent += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', write);
      }
      if (!request.destroyed) request.end();
    };
    write();
  });
}
