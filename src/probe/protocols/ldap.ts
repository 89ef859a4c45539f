import { protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

// PLACEHOLDER: being implemented.
export const ldap: Dialect = async (io) => {
  throw protocolError('ldap dialect not implemented yet', io.step);
};
