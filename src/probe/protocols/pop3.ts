import { protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

// PLACEHOLDER: being implemented.
export const pop3: Dialect = async (io) => {
  throw protocolError('pop3 dialect not implemented yet', io.step);
};
