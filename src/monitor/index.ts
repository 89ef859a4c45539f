export { CheckAbortedError, Monitor, type AddressCheck, type MonitorOptions, type ProbeFn } from './monitor.ts';
