import { protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

// PLACEHOLDER: being implemented.
export const mysql: Dialect = async (io) => {
  throw protocolError('mysql dialect not implemented yet', io.step);
};
