import { protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

// PLACEHOLDER: being implemented.
export const postgres: Dialect = async (io) => {
  throw protocolError('postgres dialect not implemented yet', io.step);
};
