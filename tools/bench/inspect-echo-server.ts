/**
 * The benchmark's stand-in agent: the agent's own gRPC server setup (health
 * checking, reflection, the same message limit), serving Inspect by
 * answering each call after holding it for a fixed time and doing nothing
 * else. With the hold set to the bare pipeline's p50, a call to it costs
 * what gRPC alone adds to an inspection of that length on this machine.
 * The hold keeps the event loop busy, so it serves one call at a time.
 * Usage: inspect-echo-server.ts <port> <hold ms>; prints "listening".
 */
import type { sendUnaryData } from '@grpc/grpc-js';
import { DESCRIPTOR_SET_BASE64, InspectServiceService, type InspectResponse } from '@loupe/proto';
import { startGrpcServer } from '@loupe/service';

const [portArg = '0', holdArg = '0'] = process.argv.slice(2);
const holdMs = Number(holdArg);

/**
 * Busy for exactly holdMs, as the agent's CPU is during an inspection. A
 * timer would fire up to a millisecond late and count that against gRPC.
 */
function hold(): void {
  const until = performance.now() + holdMs;
  while (performance.now() < until);
}

const answer: InspectResponse = {
  requestId: '',
  prediction: { verdict: 'ok', scores: [{ label: 'ok', score: 0.9 }], boxes: [] },
  model: { name: 'echo', version: '1', sha256: '' },
  provider: 'none',
};

await startGrpcServer({
  host: '127.0.0.1',
  port: Number(portArg),
  portSetting: 'port',
  maxReceiveBytes: 64 * 1024 * 1024,
  services: [
    {
      name: 'loupe.v1.InspectService',
      definition: InspectServiceService,
      implementation: {
        inspect: (_call: unknown, callback: sendUnaryData<InspectResponse>) => {
          hold();
          callback(null, answer);
        },
        inspectStream: () => undefined,
      },
    },
  ],
  descriptorSetBase64: DESCRIPTOR_SET_BASE64,
  serving: true,
});
console.log('listening');
