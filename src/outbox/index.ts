export { outboxKey } from './keys.ts';
export { OutboxStore, RETAIN_MS, type OutboxItem } from './store.ts';
export { OutboxWorker, type DrainReport, type OutboxWorkerOptions } from './worker.ts';
