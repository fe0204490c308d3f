/** One sample's value from an agent's /metrics (e.g. `name{label="x"}`), 0 when not yet exported. */
export async function scrapeMetric(statusUrl: string, sample: string): Promise<number> {
  const text = await (await fetch(`${statusUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
