import type { CliIo } from '../cli-io';

// Often enough to look alive, rarely enough not to flood a log.
const PROGRESS_EVERY_MS = 500;

/** A progress line on stderr for a transfer of `total` bytes, redrawn at most twice a second. */
export function transferProgress(io: CliIo, label: string, total: number): { update(done: number): void; finish(): void } {
  let shownAt = 0;
  let last = 0;
  const show = () => {
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    const percent = total === 0 ? 100 : Math.floor((last / total) * 100);
    io.stderr(`\r${label}: ${mib(last)} of ${mib(total)} MiB (${percent}%)`);
  };
  return {
    update(done) {
      last = done;
      const now = io.now().getTime();
      if (now - shownAt < PROGRESS_EVERY_MS) return;
      shownAt = now;
      show();
    },
    finish() {
      show();
      io.stderr('\n');
    },
  };
}
