import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEMO_PCB_AOI } from '../testing/model-fixtures';
import { InvalidManifestError, parseModelManifest } from './model-manifest';

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
