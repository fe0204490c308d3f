import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../exit-code';
import type { Command, CommandGroup } from '../command';
import { CloudFailedError } from '../cloud/cloud.errors';

const exportOptions = {
  project: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
} as const;

// Often enough to look alive, rarely enough not to flood a log.
const PROGRESS_EVERY_MS = 500;

const exportCommand: Command<typeof exportOptions> = {
  name: 'export',
  summary: "Download a project's labeled samples as a dataset file",
  options: exportOptions,
  optionHelp: [
    ['--project <id>', 'The project to export (its id, from GET /api/projects)'],
    ['--format <jsonl|coco>', 'JSON Lines, one sample per line (default), or COCO for detection projects'],
    ['--out <file>', 'Where to write it (default: dataset.jsonl or dataset.coco.json)'],
  ],
  async run(values, { io, cloud }) {
    const project = values.project;
    if (typeof project !== 'string' || project === '') throw new UsageError('--project is required', 'Run "loupe dataset export --help".');
    const format = values.format ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'coco') throw new UsageError(`--format must be jsonl or coco (got "${format}")`, 'Run "loupe dataset export --help".');
    const out = values.out ?? (format === 'jsonl' ? 'dataset.jsonl' : 'dataset.coco.json');

    const response = await cloud.download(`api/projects/${encodeURIComponent(project)}/export?format=${format}`);
    const total = Number(response.headers.get('x-total-count') ?? Number.NaN);
    let samples = 0;
    let bytes = 0;
    let shownAt = 0;
    const show = (force = false) => {
      const now = Date.now();
      if (!force && now - shownAt < PROGRESS_EVERY_MS) return;
      shownAt = now;
      const done = format === 'jsonl' && Number.isFinite(total) ? `${samples} of ${total} samples (${total === 0 ? 100 : Math.floor((samples / total) * 100)}%)` : `${total} samples`;
      io.stderr(`\rexporting: ${done}, ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
    };
    async function* counted(chunks: AsyncIterable<unknown>) {
      for await (const chunk of chunks) {
        const data = chunk as Uint8Array;
        bytes += data.byteLength;
        for (const byte of data) if (byte === 0x0a) samples++;
        show();
        yield data;
      }
    }
    // pipeline, not hand-written writes: when the download breaks off while a
    // write to the file is still in flight, it closes the file and reports
    // once instead of leaving an unhandled stream error behind.
    try {
      await pipeline(response.body ?? Readable.from([]), counted, createWriteStream(out));
    } catch (error) {
      throw new CloudFailedError(`the export broke off after ${samples} samples (${(error as Error).message}); ${out} is incomplete, run it again`, { cause: error });
    }
    show(true);
    io.stderr('\n');
    io.stdout(`wrote ${format === 'jsonl' ? `${samples} samples` : `${total} samples`} to ${out}\n`);
  },
};

/** `loupe dataset ...`: labeled data out of the cloud. */
export const datasetCommands: CommandGroup = {
  name: 'dataset',
  summary: 'Labeled samples, as training data',
  commands: [exportCommand],
};
