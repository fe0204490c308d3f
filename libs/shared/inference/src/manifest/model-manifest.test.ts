import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEMO_PCB_AOI } from '../testing/model-fixtures';
import { InvalidManifestError, manifestHeads, parseModelManifest } from './model-manifest';

describe('parseModelManifest', () => {
  const demo = async () => JSON.parse(await readFile(DEMO_PCB_AOI, 'utf8')) as Record<string, unknown> & { input: Record<string, unknown> };

  it('accepts the demo model manifest, filling defaults', async () => {
    const manifest = parseModelManifest(await demo(), 'manifest.json');
    expect(manifest.input.resize).toEqual({ mode: 'center-crop', resizeTo: 256, kernel: 'linear' });
    expect(manifest.decision).toEqual({ rejectLabels: ['Defective'], minScore: 0.5 });
  });

  it('names every field it refuses', async () => {
    const bad = {
      ...(await demo()),
      name: 'PCB AOI',
      modelFile: '../elsewhere.onnx',
      labels: [],
      input: { ...(await demo()).input, layout: 'CHW', resize: { mode: 'center-crop', resizeTo: 100 } },
    };
    try {
      parseModelManifest(bad, 'manifest.json');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidManifestError);
      const { issues } = error as InvalidManifestError;
      expect(issues.join('\n')).toMatch(/^name: must be 1-64 lowercase/m);
      expect(issues.join('\n')).toMatch(/^modelFile: must be a path inside the model folder/m);
      expect(issues.join('\n')).toMatch(/^input\.layout:/m);
      expect(issues.join('\n')).toMatch(/^labels:/m);
    }
  });

  it('refuses a reject label the model does not have', async () => {
    const base = await demo();
    expect(() => parseModelManifest({ ...base, decision: { rejectLabels: ['Scratched'] } }, 'manifest.json')).toThrow(
      /decision\.rejectLabels: "Scratched" is not one of labels/,
    );
  });

  it('refuses an output task that contradicts the model task', async () => {
    const base = await demo();
    expect(() => parseModelManifest({ ...base, task: 'anomaly' }, 'manifest.json')).toThrow(/output\.task: must match task "anomaly"/);
  });
});

describe('anomaly manifests with a score map', () => {
  const anomaly = (map: Record<string, unknown> | undefined) => ({
    name: 'discover',
    version: '1',
    task: 'anomaly',
    modelFile: 'model.onnx',
    input: { name: 'data_0', shape: [-1, 3, 640, 640], layout: 'NCHW', dtype: 'float32', channelOrder: 'BGR', resize: { mode: 'stretch' } },
    output: { task: 'anomaly', score: 'anomaly/score', threshold: 1.3, ...(map ? { map } : {}) },
    labels: ['anomaly'],
  });
  const fire5 = { output: 'anomaly/map', width: 79, height: 79, stride: [8, 8], offset: [7, 7], receptiveField: [79, 79] };

  it('accepts the map output with the geometry of its cells, and manifests without one', () => {
    const manifest = parseModelManifest(anomaly(fire5), 'manifest.json');
    expect(manifest.output).toEqual({ task: 'anomaly', score: 'anomaly/score', threshold: 1.3, map: fire5 });
    expect(parseModelManifest(anomaly(undefined), 'manifest.json').output).not.toHaveProperty('map');
  });

  it('refuses a map whose cells fall outside the input, and a map that is the score', () => {
    expect(() => parseModelManifest(anomaly({ ...fire5, width: 81 }), 'manifest.json')).toThrow(
      /output\.map: cell centres run from \(7, 7\) to \(647, 631\), outside the 640x640 input/,
    );
    expect(() => parseModelManifest(anomaly({ ...fire5, output: 'anomaly/score' }), 'manifest.json')).toThrow(/output\.map\.output: must be another output than score/);
    expect(() => parseModelManifest(anomaly({ ...fire5, stride: [0, 8] }), 'manifest.json')).toThrow(/output\.map\.stride\.0/);
  });
});

describe('manifests of several heads on one backbone pass', () => {
  const station = (extra: Record<string, unknown> = {}) => ({
    name: 'station-7',
    version: '4',
    task: 'anomaly',
    modelFile: 'model.onnx',
    input: { name: 'data_0', shape: [-1, 3, 640, 640], layout: 'NCHW', dtype: 'float32', channelOrder: 'BGR', resize: { mode: 'stretch' } },
    output: { task: 'anomaly', score: 'anomaly/score', threshold: 1.3 },
    labels: ['anomaly'],
    headName: 'discover',
    heads: [
      {
        name: 'monitor-open',
        output: { task: 'classification', scores: 'monitor-open/scores' },
        labels: ['normal', 'open'],
        decision: { rejectLabels: ['open'], minScore: 0.6 },
      },
    ],
    ...extra,
  });

  it('lists the first head and the further heads, with reject-if-any as the default rule', () => {
    const manifest = parseModelManifest(station(), 'manifest.json');
    expect(manifestHeads(manifest).map((head) => [head.name, head.role, head.output.task])).toEqual([
      ['discover', 'vote', 'anomaly'],
      ['monitor-open', 'vote', 'classification'],
    ]);
    expect(manifest.verdict).toEqual({ reject: 'any' });
    expect(manifestHeads(parseModelManifest({ ...station(), headName: undefined, heads: [] }, 'm.json')).map((head) => head.name)).toEqual(['anomaly']);
  });

  it.each([
    [{ headName: 'monitor-open' }, /heads\.0\.name: head "monitor-open" is named twice/],
    [{ heads: [{ name: 'm', output: { task: 'classification', scores: 'anomaly/score' }, labels: ['a', 'b'], decision: { rejectLabels: ['b'] } }] }, /heads\.0\.output: output "anomaly\/score" belongs to another head/],
    [{ heads: [{ name: 'm', output: { task: 'classification', scores: 's' }, labels: ['a', 'b'] }] }, /heads\.0\.decision\.rejectLabels: a head that votes must name the labels that reject/],
    [{ heads: [{ name: 'm', output: { task: 'classification', scores: 's' }, labels: ['a', 'b'], decision: { rejectLabels: ['c'] } }] }, /heads\.0\.decision\.rejectLabels: "c" is not one of labels/],
    [{ verdict: { reject: { atLeast: 3 } } }, /verdict\.reject\.atLeast: 3 rejecting heads are asked for, but only 2 vote/],
    [{ heads: [{ name: 'Bad Name', output: { task: 'classification', scores: 's' }, labels: ['a'] }] }, /heads\.0\.name: must be 1-64 lowercase/],
  ])('refuses %j', (extra, message) => {
    expect(() => parseModelManifest(station(extra), 'manifest.json')).toThrow(message);
  });

  it('lets a head report without voting, as long as one head votes', () => {
    const heads = [{ name: 'm', role: 'report', output: { task: 'classification', scores: 's' }, labels: ['a', 'b'] }];
    expect(manifestHeads(parseModelManifest(station({ heads }), 'm.json'))[1]!.role).toBe('report');
  });
});
