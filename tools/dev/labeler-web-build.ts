import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const WEB_SOURCES = ['apps/labeler-web/src', 'apps/labeler-web/index.html', 'libs/shared/api-contracts/src', 'libs/shared/device-display/src'];
const WEB_OUTPUT = 'dist/apps/labeler-web';

function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestChange(join(path, entry))), stats.mtimeMs);
}

/**
 * Builds the labeler UI when its build is missing or older than its sources;
 * resolves false if the build failed. The output folder exists from the
 * start, so the cloud can be started alongside and serves the files as
 * soon as they are written.
 */
export function buildLabelerWebIfStale(workspace: string, print: (line: string) => void): Promise<boolean> {
  const output = join(workspace, WEB_OUTPUT);
  const built = join(output, 'index.html');
  const sourcesChanged = Math.max(...WEB_SOURCES.map((source) => newestChange(join(workspace, source))));
  if (existsSync(built) && statSync(built).mtimeMs >= sourcesChanged) return Promise.resolve(true);
  mkdirSync(output, { recursive: true });
  print('building the labeler UI (vite build)...');
  const build = spawn(
    process.execPath,
    [join(workspace, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'apps/labeler-web/vite.config.ts', '--logLevel', 'error'],
    { cwd: workspace, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return new Promise((resolve) => build.once('exit', (code) => resolve(code === 0)));
}
