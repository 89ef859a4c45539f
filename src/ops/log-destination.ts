// Where the bot's log lines go. In console mode on a terminal, stderr and stdout are the same
// screen: JSON lines would land inside the conversation. There the log goes to a file under
// DATA_DIR, as a REPL keeps its own diagnostics out of the way, and the banner names it.
// Piped or in a container, logs stay on a stream (stderr beside a console, else stdout).
import { join } from 'node:path';

/** The terminal facts the choice depends on. */
export interface LogDestinationInput {
  /** The console adapter will run on this process's stdin/stdout. */
  console: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  dataDir: string;
}

/** A file path, or a file descriptor (1 stdout, 2 stderr). */
export type LogDestination = { file: string } | { fd: 1 | 2 };

/** Name of the log file in DATA_DIR when the console owns the terminal. */
export const CONSOLE_LOG_FILE = 'certwatch.log';

/** Chooses where logs go: a file when the console shares a terminal with stderr. */
export function chooseLogDestination(input: LogDestinationInput): LogDestination {
  if (!input.console) return { fd: 1 };
  if (input.stdoutIsTTY && input.stderrIsTTY) return { file: join(input.dataDir, CONSOLE_LOG_FILE) };
  return { fd: 2 };
}
