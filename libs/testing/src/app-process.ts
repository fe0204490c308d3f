import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';

export interface AppProcessOptions {
  /** Label for its output, e.g. `cloud`. */
  name: string;
  /** The workspace root; entry and tsconfig are relative to it. */
  cwd: string;
  /** Entry file, e.g. `apps/cloud/src/main.ts`. */
  entry: string;
  /** The project's tsconfig, for tsx's decorators and path aliases. */
  tsconfig: string;
  env: NodeJS.ProcessEnv;
  /** Receives every output line (stdout and stderr); dropped when absent. */
  print?: (line: string) => void;
}

const RECENT_LINES = 10;

/**
 * One Loupe app run from source with tsx as a child process, for the local
 * stack (`npm start`) and for end-to-end tests. Its JSON log lines can be
 * waited on by message.
 */
export class AppProcess {
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(entry: Record<string, unknown>) => void>();
  // The last lines it printed, so a process that dies early can say why.
  private readonly recent: string[] = [];
  readonly exited: Promise<number>;

  constructor(private readonly options: AppProcessOptions) {
    const print = options.print ?? (() => undefined);
    this.child = spawn(process.execPath, ['--import', 'tsx', options.entry], {
      cwd: options.cwd,
      env: { ...options.env, TSX_TSCONFIG_PATH: options.tsconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        print(line);
        if (this.recent.push(line) > RECENT_LINES) this.recent.shift();
        this.notify(line);
      });
    }
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': only then has every line of its output been read.
      // A signal death reads as 128 + its number, as shells report it (SIGKILL: 137).
      this.child.once('close', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves with the first log entry whose message is `message`; rejects if the process exits first. */
  waitForLog(message: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const listener = (entry: Record<string, unknown>) => {
        if (entry.msg !== message) return;
        this.listeners.delete(listener);
        resolve(entry);
      };
      this.listeners.add(listener);
      void this.exited.then((code) => {
        this.listeners.delete(listener);
        const output = this.recent.length > 0 ? `; its last output:\n${this.recent.join('\n')}` : '';
        reject(new Error(`${this.options.name} exited with code ${code} before "${message}"${output}`));
      });
    });
  }

  /** Sends `signal` (SIGTERM: a graceful stop) unless it already exited, and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  private notify(line: string): void {
    if (!line.startsWith('{')) return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const listener of [...this.listeners]) listener(entry);
  }
}
