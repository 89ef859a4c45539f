// Coalesces progress replies (Slack and Telegram). A command may call respond() many times (`check all` reports
// each target); Slack allows a response_url five uses in 30 minutes and rate-limits
// chat.update, so updates are sent at most every `minIntervalMs`, within `maxUses`, and the
// latest one is always flushed when the command ends.
import type { Reply, Respond } from './types.ts';

/** How a reply reaches Slack: the first message, then replacements of it. */
export interface Responder {
  post(reply: Reply): Promise<void>;
  update(reply: Reply): Promise<void>;
}

/** Settings for Progress. */
export interface ProgressOptions {
  minIntervalMs?: number;
  /** Most posts plus updates in total (response_url: 5). */
  maxUses?: number;
  now?: () => number;
}

/** Wraps a Responder into a Respond that throttles updates; call finish() when done. */
export class Progress {
  private uses = 0;
  private lastAt = 0;
  private pending: Reply | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly minIntervalMs: number;
  private readonly maxUses: number;
  private readonly now: () => number;

  private readonly responder: Responder;

  constructor(
    responder: Responder,
    options: ProgressOptions = {},
  ) {
    this.responder = responder;
    this.minIntervalMs = options.minIntervalMs ?? 1500;
    this.maxUses = options.maxUses ?? Number.POSITIVE_INFINITY;
    this.now = options.now ?? Date.now;
  }

  /** The Respond handed to the dispatcher. */
  readonly respond: Respond = (reply) => this.enqueue(() => this.handle(reply));

  /** Sends the latest held-back update, if any. */
  finish(): Promise<void> {
    return this.enqueue(async () => {
      if (this.pending === undefined) return;
      const reply = this.pending;
      this.pending = undefined;
      await this.send(reply);
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step);
    this.chain = next.catch(() => {});
    return next;
  }

  private async handle(reply: Reply): Promise<void> {
    if (this.uses === 0) return this.send(reply);
    // Keep one use for the final state; send now only if the interval has passed.
    const canSpend = this.uses < this.maxUses - 1;
    if (canSpend && this.now() - this.lastAt >= this.minIntervalMs) {
      this.pending = undefined;
      return this.send(reply);
    }
    this.pending = reply;
  }

  private async send(reply: Reply): Promise<void> {
    if (this.uses >= this.maxUses) return;
    const first = this.uses === 0;
    this.uses++;
    this.lastAt = this.now();
    await (first ? this.responder.post(reply) : this.responder.update(reply));
  }
}
