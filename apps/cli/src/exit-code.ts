/** What `loupe` exits with; scripts branch on these, so they never change meaning. */
export const ExitCode = {
  ok: 0,
  /** The command line is wrong: unknown command or flag, bad URL. */
  usage: 2,
  /** The cloud understood the request and said no (4xx). */
  refused: 3,
  /** The request did not get a usable answer: network error, 5xx, invalid response. */
  failed: 4,
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
