export interface LatencySummary {
  requests: number;
  p50_ms: number;
  p99_ms: number;
  throughput_rps: number;
}

export function summarize(latenciesMs: number[], elapsedMs: number): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (quantile: number) => sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))] ?? Number.NaN;
  return {
    requests: sorted.length,
    p50_ms: round(at(0.5)),
    p99_ms: round(at(0.99)),
    throughput_rps: round((sorted.length / elapsedMs) * 1000),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Runs `call` `requests` times from `concurrency` workers and summarizes the latencies. */
export async function measureAtConcurrency(
  concurrency: number,
  requests: number,
  call: (index: number) => Promise<unknown>,
): Promise<LatencySummary> {
  let next = 0;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const index = next++;
        const sent = performance.now();
        await call(index);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  return summarize(latencies, performance.now() - started);
}
