export { redisRunCoordinator, type ClosableCoordinator } from './coordinator.ts';
export { digestReply, postDigest, type DigestDeps } from './digest.ts';
export { Scheduler, type Checker, type RunReport, type SchedulerOptions, type Sleep } from './scheduler.ts';
