import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli';
import { ExitCode } from '../exit-code';

// `loupe dataset export` over real HTTP: a node:http server streams an export
// in pieces, the way the cloud does.

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

// breakOff: after the lines, send this much of a line and drop the
// connection at once, so the CLI's write of it to the file is still in flight
// when the download fails.
async function cloudStreaming(lines: string[], { breakOff }: { breakOff?: string } = {}) {
  const asked: string[] = [];
  const server = createServer((request, response) => {
    asked.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-total-count': String(lines.length) });
    let index = 0;
    const next = () => {
      if (index === lines.length && breakOff !== undefined) {
        response.write(breakOff);
        return void response.destroy();
      }
      if (index === lines.length) return void response.end();
      response.write(`${lines[index++]}\n`);
      setTimeout(next, 5);
    };
    next();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

async function loupe(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const exitCode = await runCli(argv, {
    fetch,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    now: () => new Date(),
    env: { LOUPE_TOKEN: 'tok' },
  });
  return { exitCode, stdout, stderr };
}

describe('loupe dataset export', () => {
  it('writes the streamed export to a file and reports its progress', async () => {
    const lines = ['{"sampleId":"a"}', '{"sampleId":"b"}', '{"sampleId":"c"}'];
    const cloud = await cloudStreaming(lines);
    const dir = await mkdtemp(join(tmpdir(), 'loupe-export-'));
    dirs.push(dir);
    const out = join(dir, 'pcb.jsonl');
    const { exitCode, stdout, stderr } = await loupe(['dataset', 'export', '--project', 'p-1', '--out', out, '--cloud-url', cloud.url]);
    expect(exitCode).toBe(ExitCode.ok);
    expect(cloud.asked).toEqual(['/api/projects/p-1/export?format=jsonl']);
    expect(await readFile(out, 'utf8')).toBe(`${lines.join('\n')}\n`);
    expect(stderr).toContain('3 of 3 samples (100%)');
    expect(stdout).toBe(`wrote 3 samples to ${out}\n`);
  });

  it('says the file is incomplete when the export breaks off', async () => {
    const cloud = await cloudStreaming(['{"sampleId":"a"}'], { breakOff: `{"sampleId":"b","pad":"${'x'.repeat(1024)}` });
    const dir = await mkdtemp(join(tmpdir(), 'loupe-export-'));
    dirs.push(dir);
    const { exitCode, stderr } = await loupe(['dataset', 'export', '--project', 'p-1', '--out', join(dir, 'x.jsonl'), '--cloud-url', cloud.url]);
    expect(exitCode).toBe(ExitCode.failed);
    expect(stderr).toMatch(/the export broke off after 1 samples .*is incomplete, run it again/);
  });

  it('needs a project and a known format', async () => {
    expect((await loupe(['dataset', 'export'])).exitCode).toBe(ExitCode.usage);
    const { exitCode, stderr } = await loupe(['dataset', 'export', '--project', 'p', '--format', 'csv']);
    expect(exitCode).toBe(ExitCode.usage);
    expect(stderr).toContain('--format must be jsonl or coco (got "csv")');
  });
});
