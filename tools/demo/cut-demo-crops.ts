/**
 * Cuts the demo's inspection images (tools/demo/images/deeppcb-crops) from
 * the DeepPCB subset in the shared data: for the first two defect boxes of
 * each of its 121 pairs, a square window around the box on the tested image
 * (`Defective_<id>_<n>.png`) and the same window on the defect-free template
 * (`Normal_<id>_<n>.png`). A window, not the whole 640x640 board: at the
 * backbone's 224x224 a defect of a few pixels would vanish. Deterministic;
 * the crops are committed, so only rerun it to change them.
 *
 *   node --import tsx tools/demo/cut-demo-crops.ts [DEEPPCB_SUBSET_DIR]
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

const IMAGE_SIZE = 640;
/** The window's smallest side: enough board around a small defect for a person to see what it is. */
const MIN_WINDOW = 64;
/** The window is this many times the box's longer side, as the backbone measurements crop just around the box (docs/backbones.md). */
const WINDOW_SCALE = 1.25;
const BOXES_PER_PAIR = 2;

const source = resolve(process.argv[2] ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'datasets', 'deeppcb'));
const target = join(import.meta.dirname, 'images', 'deeppcb-crops');

/** A square window around the box, clamped inside the board image. */
function windowAround([x1, y1, x2, y2]: number[]): { left: number; top: number; width: number; height: number } {
  const side = Math.round(Math.max(MIN_WINDOW, WINDOW_SCALE * Math.max(x2! - x1!, y2! - y1!)));
  const clamp = (start: number) => Math.min(Math.max(0, Math.round(start)), IMAGE_SIZE - side);
  return { left: clamp((x1! + x2!) / 2 - side / 2), top: clamp((y1! + y2!) / 2 - side / 2), width: side, height: side };
}

const rows = (await readFile(join(source, 'manifest.csv'), 'utf8')).trim().split('\n').slice(1);
await rm(target, { recursive: true, force: true });
await mkdir(target, { recursive: true });
let written = 0;
for (const row of rows) {
  const [id, , , testImage, templateImage, annotation] = row.split(',') as [string, string, string, string, string, string];
  const boxes = (await readFile(join(source, annotation), 'utf8'))
    .trim()
    .split('\n')
    .slice(0, BOXES_PER_PAIR)
    .map((line) => line.trim().split(/[\s,]+/).map(Number));
  for (const [n, box] of boxes.entries()) {
    const region = windowAround(box);
    for (const [label, image] of [['Defective', testImage], ['Normal', templateImage]] as const) {
      await sharp(join(source, image)).extract(region).grayscale().png({ compressionLevel: 9 }).toFile(join(target, `${label}_${id}_${n + 1}.png`));
      written++;
    }
  }
}
console.log(`wrote ${written} crops to ${target}`);
