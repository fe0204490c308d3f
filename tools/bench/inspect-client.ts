/**
 * The benchmark's station: a separate process that calls the agent's
 * Inspect API at a given concurrency and prints one JSON line of figures.
 * Usage: inspect-client.ts <address> <concurrency> <requests> <image>...
 */
import { readFile } from 'node:fs/promises';
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { InspectServiceClient, type InspectResponse } from '@loupe/proto';
import { service as healthService } from 'grpc-health-check';
import { measureAtConcurrency } from './latency';

const [address = '', concurrencyArg = '1', requestsArg = '100', ...imagePaths] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const requests = Number(requestsArg);
const images = await Promise.all(imagePaths.map((path) => readFile(path)));
const client = new InspectServiceClient(address, credentials.createInsecure());

const inspect = (image: Buffer) =>
  new Promise<InspectResponse>((resolve, reject) =>
    client.inspect({ requestId: '', stationId: 'bench', unitSerial: '', image }, (error, response) => (error ? reject(error) : resolve(response))),
  );

// Warm the connection and the model's caches before measuring.
for (const image of images) await inspect(image);

// The cost of any call on this machine: a health check, which does no work,
// measured on its own connection before the run.
async function rpcFloorMs(): Promise<number> {
  const Health = makeGenericClientConstructor(healthService, 'Health');
  const health = new Health(address, credentials.createInsecure()) as unknown as {
    check(request: { service: string }, callback: (error: Error | null) => void): void;
    close(): void;
  };
  const check = () => new Promise<void>((resolve, reject) => health.check({ service: '' }, (error) => (error ? reject(error) : resolve())));
  for (let i = 0; i < 20; i++) await check();
  const summary = await measureAtConcurrency(1, 200, check);
  health.close();
  return summary.p50_ms;
}
const rpcFloor = concurrency === 1 ? await rpcFloorMs() : Number.NaN;

// The agent's own time per request, so the rest of the round trip (gRPC,
// the network stack, this process) can be told apart from it.
const agentTotals: number[] = [];
const summary = await measureAtConcurrency(concurrency, requests, async (index) => {
  const response = await inspect(images[index % images.length]!);
  agentTotals.push(response.timings?.totalMs ?? Number.NaN);
});
client.close();
const sorted = agentTotals.sort((a, b) => a - b);
const agentTotalP50 = Math.round((sorted[Math.floor(sorted.length / 2)] ?? Number.NaN) * 100) / 100;
console.log(JSON.stringify({ ...summary, agent_total_p50_ms: agentTotalP50, rpc_floor_p50_ms: rpcFloor }));
