import { createInflate } from 'node:zlib';

/**
 * How many bytes a zlib stream inflates to, counted as it inflates on the
 * thread pool and never kept; it stops just past `limit`, because a hostile
 * stream can inflate a thousandfold. Rejects when the stream is corrupt.
 */
export function inflatedLength(parts: Buffer[], limit: number): Promise<number> {
  // Large chunks: fewer events to count; nothing is kept.
  const inflater = createInflate({ chunkSize: 1 << 20 });
  let length = 0;
  const counted = new Promise<number>((resolve, reject) => {
    inflater.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) inflater.destroy();
    });
    inflater.on('end', () => resolve(length));
    inflater.on('close', () => resolve(length));
    inflater.on('error', reject);
  });
  for (const part of parts) inflater.write(part);
  inflater.end();
  return counted;
}
