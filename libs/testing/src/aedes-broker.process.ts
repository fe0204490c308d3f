/**
 * An Aedes broker as a process of its own, for tests that kill the broker.
 * Usage: aedes-broker.process.ts <port>
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2]);
const broker = await Aedes.createBroker();
createServer((socket) => broker.handle(socket)).listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
