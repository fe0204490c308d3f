/**
 * Everything the CLI reaches outside itself. `main.ts` wires the real
 * process; tests pass their own to run commands in-process.
 */
export interface CliIo {
  fetch: typeof fetch;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  now: () => Date;
  env: NodeJS.ProcessEnv;
  /** One line from standard input (a password piped in or typed); absent where there is none. */
  readLine?: () => Promise<string>;
}
