/**
 * DeepPCB's trainval split as the ML benchmarks read it: one entry per
 * tested image, with its defect-free template and its defect boxes. The data
 * is not in the repository (83 MB); DEEPPCB_DIR points at it, by default the
 * shared data folder beside the checkout.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const DEFECT_TYPES = ['open', 'short', 'mousebite', 'spur', 'spurious_copper', 'pin_hole'] as const;
export type DefectType = (typeof DEFECT_TYPES)[number];

export interface DefectBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  type: DefectType;
}

export interface DeepPcbPair {
  /** Board group, e.g. "20085": images of one board design. */
  group: string;
  /** The pair's id, e.g. "20085000". */
  id: string;
  testPath: string;
  templatePath: string;
  boxes: DefectBox[];
}

const workspace = resolve(import.meta.dirname, '..', '..');

export function deepPcbDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const directory = resolve(env.DEEPPCB_DIR ?? join(workspace, '..', 'shared', 'data', 'datasets', 'deeppcb-trainval'));
  if (!existsSync(join(directory, 'trainval.txt'))) {
    throw new Error(`DeepPCB trainval not found at ${directory}: set DEEPPCB_DIR to the folder holding trainval.txt and PCBData/`);
  }
  return directory;
}

/**
 * Every pair of trainval.txt, in its order. Upstream's list names one pair
 * more than it ships (44000113 has neither images nor boxes); such lines
 * are returned apart, for the benchmarks to say what they left out.
 */
export async function readDeepPcb(directory = deepPcbDirectory()): Promise<{ pairs: DeepPcbPair[]; missing: string[] }> {
  const lines = (await readFile(join(directory, 'trainval.txt'), 'utf8')).split('\n').filter((line) => line.trim() !== '');
  const present = lines.filter((line) => line.trim().split(/\s+/).every((file) => existsSync(join(directory, 'PCBData', file.replace(/\.jpg$/, '_test.jpg')))));
  const missing = lines.filter((line) => !present.includes(line)).map((line) => line.trim().split(/\s+/)[0]!);
  const pairs = await Promise.all(
    present.map(async (line) => {
      // group20085/20085/20085000.jpg group20085/20085_not/20085000.txt
      const [image, annotation] = line.trim().split(/\s+/) as [string, string];
      const base = join(directory, 'PCBData', image.replace(/\.jpg$/, ''));
      const id = base.slice(base.lastIndexOf('/') + 1);
      const text = await readFile(join(directory, 'PCBData', annotation), 'utf8');
      return {
        group: id.slice(0, 5),
        id,
        testPath: `${base}_test.jpg`,
        templatePath: `${base}_temp.jpg`,
        boxes: text
          .split('\n')
          .filter((row) => row.trim() !== '')
          .map((row) => {
            const [x1, y1, x2, y2, type] = row.trim().split(/[\s,]+/).map(Number) as [number, number, number, number, number];
            return { x1, y1, x2, y2, type: DEFECT_TYPES[type - 1]! };
          }),
      };
    }),
  );
  return { pairs, missing };
}
