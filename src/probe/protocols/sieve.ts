import { protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

// PLACEHOLDER: being implemented.
export const sieve: Dialect = async (io) => {
  throw protocolError('sieve dialect not implemented yet', io.step);
};
