import { protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

// PLACEHOLDER: being implemented.
export const imap: Dialect = async (io) => {
  throw protocolError('imap dialect not implemented yet', io.step);
};
