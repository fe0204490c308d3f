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
