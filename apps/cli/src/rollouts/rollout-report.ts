import { meanConfidence, type CohortStatsDto, type RolloutDetailDto } from '@loupe/api-contracts';

const percent = (count: number, of: number) => (of === 0 ? '-' : `${((100 * count) / of).toFixed(2)}%`);

function confidence(histogram: number[]): string {
  return meanConfidence(histogram)?.toFixed(3) ?? '-';
}

function cohortRows(candidate: CohortStatsDto, baseline: CohortStatsDto): [string, string, string][] {
  return [
    ['devices', String(candidate.devices), String(baseline.devices)],
    ['inspections', String(candidate.inspections), String(baseline.inspections)],
    ['error rate', percent(candidate.errors, candidate.inspections), percent(baseline.errors, baseline.inspections)],
    ['reject rate', percent(candidate.rejects, candidate.inspections), percent(baseline.rejects, baseline.inspections)],
    ['uncertain rate', percent(candidate.uncertain, candidate.inspections), percent(baseline.uncertain, baseline.inspections)],
    ['p99 latency', `${candidate.p99Ms.toFixed(1)} ms`, `${baseline.p99Ms.toFixed(1)} ms`],
    ['mean confidence', confidence(candidate.confidenceHistogram), confidence(baseline.confidenceHistogram)],
    ['shadow disagreement', '-', percent(baseline.shadowDisagreed, baseline.shadowCompared)],
  ];
}

/** A rollout for the terminal: where it stands, each stage, both cohorts side by side, the gates and the latest events. */
export function formatRollout(rollout: RolloutDetailDto, events = 8): string {
  const lines = [
    `rollout ${rollout.id}: ${rollout.modelName} ${rollout.fromVersion} -> ${rollout.toVersion} on fleet group "${rollout.fleetGroup}"`,
    `  state ${rollout.state}${rollout.reason ? ` (${rollout.reason})` : ''}`,
    '',
    'stages',
  ];
  rollout.plan.stages.forEach((stage, index) => {
    const devices = rollout.devices.filter((device) => device.stage === index);
    const counts = new Map<string, number>();
    for (const device of devices) counts.set(device.state, (counts.get(device.state) ?? 0) + 1);
    const marker = index === rollout.stage && ['running', 'paused'].includes(rollout.state) ? '>' : ' ';
    const scope = [stage.devices.length > 0 ? `${stage.devices.length} named` : '', stage.percent === undefined ? '' : `${stage.percent}%`].filter(Boolean).join(' + ');
    const states = [...counts].map(([state, n]) => `${n} ${state}`).join(', ') || 'no devices';
    lines.push(`${marker} ${index + 1}. ${stage.name.padEnd(12)} ${scope.padEnd(16)} bake ${String(stage.bakeSeconds).padStart(5)}s   ${states}`);
  });
  const { candidate, baseline, baselineFrom } = rollout.cohorts;
  lines.push('', `gates: ${rollout.gates.verdict}   (baseline: ${baselineFrom === 'same-devices' ? 'the same devices on the old version' : 'the fleet group on the old version'})`);
  lines.push(`  ${''.padEnd(20)} ${`new (v${rollout.toVersion})`.padStart(14)} ${`old (v${rollout.fromVersion})`.padStart(14)}`);
  for (const [name, a, b] of cohortRows(candidate, baseline)) lines.push(`  ${name.padEnd(20)} ${a.padStart(14)} ${b.padStart(14)}`);
  if (rollout.gates.verdict === 'no-data') {
    for (const missing of rollout.gates.missing) lines.push(`  missing: ${missing}`);
  } else {
    for (const check of rollout.gates.checks) {
      lines.push(`  ${check.passed ? 'pass' : 'FAIL'} ${check.gate.padEnd(20)} ${check.measured.toFixed(3)} (limit ${check.limit})`);
    }
  }
  lines.push('', 'events');
  for (const event of rollout.events.slice(-events)) lines.push(`  ${event.at}  ${event.actor === 'controller' ? 'controller' : 'person'}  ${event.action}`);
  return `${lines.join('\n')}\n`;
}
