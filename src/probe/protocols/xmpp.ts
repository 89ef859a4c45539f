import { protocolError } from '../errors.ts';
import type { Dialect } from './types.ts';

// PLACEHOLDER: being implemented.
export const xmppClient: Dialect = async (io) => {
  throw protocolError('xmpp dialect not implemented yet', io.step);
};
export const xmppServer: Dialect = xmppClient;
