import { protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

// PLACEHOLDER: being implemented.
export const irc: Dialect = async (io) => {
  throw protocolError('irc dialect not implemented yet', io.step);
};
