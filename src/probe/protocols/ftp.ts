import { protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

// PLACEHOLDER: being implemented.
export const ftp: Dialect = async (io) => {
  throw protocolError('ftp dialect not implemented yet', io.step);
};
