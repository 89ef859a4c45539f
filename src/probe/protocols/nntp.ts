import { protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

// PLACEHOLDER: being implemented.
export const nntp: Dialect = async (io) => {
  throw protocolError('nntp dialect not implemented yet', io.step);
};
