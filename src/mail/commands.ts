// The chat side of mail domains, kept out of commands/*.ts so those stay a small branch.
import type { Respond } from '../chat/types.ts';
import { UserError } from '../commands/types.ts';
import type { Services } from '../core/services.ts';
import { parseMailDomain } from './domain.ts';
import { mailReply } from './reply.ts';

/** `check mail <domain>`: checks the domain once and replies with its tree. */
export async function checkMailCommand(domainText: string, services: Services, respond: Respond): Promise<void> {
  if (services.mail === undefined) throw new UserError('mail domain checks are not enabled in this deployment');
  let domain: string;
  try {
    domain = parseMailDomain(domainText);
  } catch (err) {
    throw new UserError((err as Error).message, true);
  }
  const report = await services.mail.checkDomain(domain);
  await respond(mailReply(report, 'Checked once; mail domains are not watched yet.'));
}
