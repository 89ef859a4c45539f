// Every real server the interop suite starts. Adding one: a module in this folder, one line here.
import type { ServerModule } from '../lib/context.ts';
import { dovecot } from './dovecot.ts';
import { inn } from './inn.ts';
import { mariadb } from './mariadb.ts';
import { nginx } from './nginx.ts';
import { postfix } from './postfix.ts';
import { postgres } from './postgres.ts';
import { prosody } from './prosody.ts';
import { slapd } from './slapd.ts';
import { vsftpd } from './vsftpd.ts';

export const servers: readonly ServerModule[] = [postfix, dovecot, nginx, postgres, slapd, vsftpd, mariadb, prosody, inn];
