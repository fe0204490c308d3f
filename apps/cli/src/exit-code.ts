/** What `loupe` exits with; scripts branch on these, so they never change meaning. */
export const ExitCode = {
  ok: 0,
  /** The command line is wrong: unknown command or flag, bad URL. */
  usage: 2,
  /** The cloud understood the request and said no (4xx). */
  refused: 3,
  /** The request did not get a usable answer: network error, 5xx, invalid response. */
  failed: 4,
  /** The cloud answered, but the work the command waited for ended without success: a training run failed or was cancelled. */
  runFailed: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The person at the terminal has to change the command line or the environment. */
export class UsageError extends Error {
  /** `help` follows the message: where to read how to do it right. */
  constructor(
    message: string,
    readonly help: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A run the command waited for ended without success; the message says how, in the cloud's words. */
export class RunFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFailedError';
  }
}
