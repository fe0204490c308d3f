/**
 * A process that fills an outbox as fast as it can and prints each sample
 * id once the outbox has accepted it, for the crash test to kill at random.
 * Usage: outbox-writer.fixture.ts <directory>
 */
import { createHash, randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { SampleOutbox } from './sample-outbox';

const [directory = ''] = process.argv.slice(2);
const outbox = await SampleOutbox.open(
  directory,
  { maxBytes: 1 << 30, maxCount: 100_000, maxPendingWrites: 64, maxPendingBytes: 1 << 30, diskReserveBytes: 0, quarantine: { maxBytes: 1 << 20, maxCount: 10 } },
  { dropped: () => undefined, quarantined: () => undefined },
  pino({ level: 'silent' }),
);
for (let i = 0; ; i++) {
  const id = randomUUID();
  // The payload is its own checksum: the first 32 bytes hash the rest.
  const body = Buffer.alloc(4096 + (i % 7) * 1000, i % 251);
  const payload = Buffer.concat([createHash('sha256').update(body).digest(), body]);
  void outbox.offer({ id, priority: (i % 10) / 10, capturedAtMs: Date.now() }, payload).then((accepted) => {
    if (accepted) process.stdout.write(`${id}\n`);
  });
  if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
}
