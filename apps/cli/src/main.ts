import { createInterface } from 'node:readline/promises';
import { runCli } from './cli';

process.exitCode = await runCli(process.argv.slice(2), {
  fetch: (input, init) => fetch(input, init),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  now: () => new Date(),
  env: process.env,
  readLine: async () => {
    const lines = createInterface({ input: process.stdin, terminal: false });
    try {
      for await (const line of lines) return line;
      return '';
    } finally {
      lines.close();
    }
  },
});
