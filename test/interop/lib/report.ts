// The pass/fail bookkeeping and the end of a real-server suite (interop and mail-interop):
// stop the daemons on a signal, stop them and check for leftovers at the end, print the run's
// logs when something failed, and close on the "N passed, N failed" line CI reads.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from './context.ts';
import { leftovers } from './leftovers.ts';
import { tail } from './procs.ts';

export class SuiteReport {
  passed = 0;
  failed = 0;
  private readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  pass(line: string): void {
    this.passed++;
    console.log(`ok   ${line}`);
  }

  fail(what: string, why: string): void {
    this.failed++;
    console.log(`FAIL ${what}\n     ${why.replaceAll('\n', '\n     ')}`);
  }

  /**
   * The daemons run in their own process groups, so a Ctrl-C or a CI timeout would not reach
   * them: stop them before exiting.
   */
  stopOnSignals(ctx: Ctx): void {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        console.log(`${this.name}: ${sig}, stopping ${ctx.procs.started.length} daemons`);
        void ctx.procs.stopAll(3000).finally(() => process.exit(130));
      });
    }
  }

  /** Stops the daemons (unless `keep`) and counts the leftover check as one more case. */
  async stopAll(ctx: Ctx, keep: boolean, dir: string, listeningBefore: Set<string>, extraPorts: readonly number[] = []): Promise<void> {
    if (keep) {
      console.log(`--keep: servers left running, pids ${ctx.procs.started.map((p) => p.pid).join(' ')}`);
      return;
    }
    await ctx.procs.stopAll();
    const left = await leftovers(dir, ctx.procs, listeningBefore, extraPorts);
    if (left.length === 0) this.pass(`cleanup: ${ctx.procs.started.length} daemons stopped, no process or port left`);
    else this.fail('cleanup', left.join('\n'));
  }

  /** Prints the logs when a case failed (`more` adds suite-specific ones), the summary, and returns the exit status. */
  end(ctx: Ctx, more: () => void = () => {}): number {
    if (this.failed > 0) {
      console.log('\nlogs of the run:');
      for (const f of readdirSync(ctx.logs)) console.log(`--- ${f}\n${tail(join(ctx.logs, f), 15)}`);
      more();
    }
    console.log(`\n${this.name}: ${this.passed} passed, ${this.failed} failed`);
    return this.failed === 0 ? 0 : 1;
  }
}
