// What every server module gets and gives back: the run's directories, the certificate
// scenarios, and the endpoints it started.
import { join } from 'node:path';
import type { Processes } from './procs.ts';

/** Certificate scenarios made by certs.sh, one directory each. */
export const scenarios = ['valid', 'incomplete', 'expired', 'soon', 'wronghost', 'selfsigned', 'weak', 'ecdsa'] as const;
export type Scenario = (typeof scenarios)[number];

/** Problem codes each scenario must produce, and no others. */
export const expectedProblems: Record<Scenario, readonly string[]> = {
  valid: [],
  incomplete: ['CHAIN_INCOMPLETE'],
  expired: ['EXPIRED'],
  soon: ['EXPIRES_SOON'],
  wronghost: ['HOSTNAME_MISMATCH'],
  selfsigned: ['SELF_SIGNED'],
  weak: ['WEAK_KEY', 'WEAK_SIGNATURE'],
  ecdsa: [],
};

/** Problem codes a scenario may add beside its expected ones (they follow from the same cause). */
export const toleratedProblems: Partial<Record<Scenario, readonly string[]>> = {
  // A chain that cannot be built to the root is also untrusted.
  incomplete: ['UNTRUSTED'],
  selfsigned: ['UNTRUSTED'],
  // An expired leaf may also count as not trusted.
  expired: ['UNTRUSTED'],
};

/**
 * `trusted` where the scenario decides it (a path to the root that every rule accepts; the
 * leaf's own dates and name are separate findings, so expired stays open). Clients refuse a
 * path relying on a SHA-1 signature or an RSA-1024 key, so weak is not trusted.
 */
export const expectedTrusted: Partial<Record<Scenario, boolean>> = {
  valid: true,
  ecdsa: true,
  soon: true,
  wronghost: true,
  incomplete: false,
  selfsigned: false,
  weak: false,
};

/** Certificates a scenario's server sends. */
export const expectedChainLength: Record<Scenario, number> = {
  valid: 2,
  incomplete: 1,
  expired: 2,
  soon: 2,
  wronghost: 2,
  selfsigned: 1,
  weak: 2,
  ecdsa: 2,
};

/** One listening endpoint to check. */
export interface Endpoint {
  server: string;
  /** certwatch target scheme (implies protocol and mode). */
  scheme: string;
  port: number;
  scenario: Scenario;
  /** `openssl s_client -starttls` value, or null for implicit TLS. */
  starttls: string | null;
  /** Extra s_client arguments (e.g. -xmpphost). */
  sclientArgs?: string[];
  /** A plaintext-only endpoint: certwatch must report this error code and no certificate. */
  expectError?: string;
  /** Known deviation of this server from expectedChainLength, with the reason. */
  chainLength?: { count: number; why: string };
}

/** The shared state of one run. */
export interface Ctx {
  /** Root of the run's temporary directory. */
  dir: string;
  logs: string;
  certs: string;
  procs: Processes;
}

export function certDir(ctx: Ctx, s: Scenario): string {
  return join(ctx.certs, s);
}

/** Paths of one scenario's files. */
export function certFiles(ctx: Ctx, s: Scenario): { key: string; leaf: string; served: string; combined: string } {
  const d = certDir(ctx, s);
  return { key: join(d, 'key.pem'), leaf: join(d, 'leaf.pem'), served: join(d, 'served.pem'), combined: join(d, 'combined.pem') };
}

/**
 * An OPENSSL_CONF at security level 0, for servers that check their own certificate against
 * the level while loading it (before any cipher setting applies): Debian's openssl.cnf says
 * SECLEVEL=2, which refuses the weak scenario's RSA-1024 key with "ee key too small".
 */
export function lowSeclevelConf(ctx: Ctx): string {
  return join(ctx.dir, 'openssl-seclevel0.cnf');
}

export const lowSeclevelConfText = `openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = DEFAULT@SECLEVEL=0
`;

/** A server that the suite can start; returns the endpoints it is listening on. */
export interface ServerModule {
  name: string;
  start(ctx: Ctx): Promise<Endpoint[]>;
}
