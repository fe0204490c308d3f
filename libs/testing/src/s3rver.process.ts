/**
 * s3rver as a process of its own, for tests that kill the object store.
 * Usage: s3rver.process.ts <port> <directory> <bucket>
 * Prints one JSON line `{"written":"<key>"}` for every object of <bucket>
 * written, once the write is stored. Writes are all or nothing, as on S3,
 * so killing this process never leaves a torn object.
 */
import S3rver from 's3rver';
import { makeObjectWritesAtomic } from './s3rver-atomic-put';
import { honourConditionalPuts } from './s3rver-conditional-put';
import { onObjectWritten } from './test-object-store';

const [port, directory, bucket] = process.argv.slice(2) as [string, string, string];
const server = new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory });
honourConditionalPuts(server);
makeObjectWritesAtomic(server);
onObjectWritten(server, bucket, (written) => process.stdout.write(`${JSON.stringify({ written })}\n`));
await server.run();
