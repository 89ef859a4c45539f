// Commands run in the background after the platform is answered (Slack's 3-second ack,
// telegraf's one-batch-at-a-time polling). This bounds how many run at once, so a flood of
// commands cannot pile up unbounded work, and lets shutdown wait for the ones running.

/** A bounded set of running background tasks. */
export class InFlight {
  private readonly running = new Set<Promise<void>>();

  private readonly max: number;

  constructor(max = 100) {
    this.max = max;
  }

  /** Starts `work` unless the limit is reached; returns false (and does not start it) then. */
  start(work: () => Promise<void>): boolean {
    if (this.running.size >= this.max) return false;
    const task = work().catch(() => {});
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
    return true;
  }

  get size(): number {
    return this.running.size;
  }

  /** Waits for running tasks, at most `timeoutMs`; returns how many were still running. */
  async drain(timeoutMs: number): Promise<number> {
    if (this.running.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.running]), expired]);
    clearTimeout(timer);
    return this.running.size;
  }
}
