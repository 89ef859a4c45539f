// How the Slack and Telegram adapters run one chat command: guard first (nothing is stored or
// probed for a refused request), then the dispatcher in the background under the in-flight
// cap, so a long probe never blocks the platform's event loop; every outcome ends in a reply.
import type { CommandGuard } from '../security/guard.ts';
import type { InFlight } from '../security/in-flight.ts';
import type { Progress } from './progress.ts';
import type { CommandDispatcher, IncomingCommand, Reply } from './types.ts';

const busyReply: Reply = { title: 'The bot is busy right now. Please try again in a minute.', status: 'warning', ephemeral: true };
const failedReply: Reply = { title: 'Sorry, that command failed. The error has been logged.', status: 'error' };

/** The events an adapter logs for a command, with its own field names and secret scrubbing. */
export type CommandEvent = 'command' | 'command_refused' | 'command_failed' | 'reply_failed';

/** Everything needed to run one command. */
export interface BackgroundCommand {
  cmd: IncomingCommand;
  progress: Progress;
  guard: CommandGuard;
  dispatcher: CommandDispatcher;
  inFlight: InFlight;
  log(event: CommandEvent, err?: unknown): void;
}

/** Runs one command in the background; returns at once. */
export function runInBackground(c: BackgroundCommand): void {
  const tell = (reply: Reply): Promise<void> =>
    c.progress
      .respond(reply)
      .then(() => c.progress.finish())
      .catch((err: unknown) => c.log('reply_failed', err));
  const refusal = c.guard(c.cmd);
  if (refusal !== null) {
    c.log('command_refused');
    void tell(refusal);
    return;
  }
  c.log('command');
  const started = c.inFlight.start(async () => {
    try {
      await c.dispatcher(c.cmd, c.progress.respond);
      await c.progress.finish();
    } catch (err) {
      c.log('command_failed', err);
      await tell(failedReply);
    }
  });
  if (!started) void tell(busyReply);
}
