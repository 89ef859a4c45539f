// Child process of crash.test.ts: one scheduled run against the parent's fake endpoints, with
// a ChannelSender that appends each delivered message to a file. With CRASH_AFTER=k the
// sender announces itself on the control file at delivery k+1 and hangs there, so the parent
// can SIGKILL it with k messages delivered and the rest of the run still in progress.
import { appendFileSync } from 'node:fs';
import type { ChannelRef, ChannelSender, Reply } from '../../src/chat/types.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import { parseConfig } from '../../src/config.ts';
import { startBot } from '../../src/main.ts';

const { STORE_URL, SINK, CONTROL, CRASH_AFTER } = process.env;
if (!STORE_URL || !SINK || !CONTROL) throw new Error('STORE_URL, SINK and CONTROL are required');
const crashAfter = CRASH_AFTER ? Number(CRASH_AFTER) : Infinity;

let sends = 0;
const sink: ChannelSender = {
  platform: 'console',
  async send(_channel: ChannelRef, message: Reply): Promise<void> {
    sends++;
    if (sends > crashAfter) {
      appendFileSync(CONTROL, 'HANG\n');
      await new Promise(() => {}); // never returns: the parent kills us here
    }
    appendFileSync(SINK, `${JSON.stringify({ title: message.title })}\n`);
  },
};

const config = parseConfig({ STORE_URL, REPLICA_ID: 'crash', ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'silent', CHECK_CONCURRENCY: '1', CHECK_JITTER_MS: '0', PROBE_TIMEOUT_MS: '20000', FAIL_AFTER: '3', CONSOLE: 'off' });
const bot = await startBot(config, { senders: [sink], trust: TrustStore.fromPem([]), schedule: false, outbox: { pollMs: 50 } });
await bot.scheduler.tick('scheduled');
// Wait (bounded) until the outbox is empty, then report; the parent judges what arrived.
for (let i = 0; i < 100; i++) {
  const report = await bot.worker.drainOnce();
  if (report.pending === 0) break;
  await new Promise((r) => setTimeout(r, 50));
}
appendFileSync(CONTROL, 'DONE\n');
await bot.stop();
