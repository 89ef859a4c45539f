// The Public Suffix List, through the `tldts` package, loaded on first use: most probes judge
// no wildcard, and CLI start-up should not pay for parsing the list (about 10 ms, 1 MB).
import { createRequire } from 'node:module';

type GetPublicSuffix = (host: string, options: { allowPrivateDomains: boolean; extractHostname: boolean; validateHostname: boolean }) => string | null;

let getPublicSuffix: GetPublicSuffix | undefined;

/**
 * Whether `name` (lower-case, valid DNS syntax) is itself a public suffix, in the ICANN or the
 * PRIVATE section of the list (`co.uk`, `s3.amazonaws.com`, `github.io`). Names under no known
 * suffix fall to the list's implicit `*` rule, so a single unknown label counts as a suffix.
 */
export function isPublicSuffix(name: string): boolean {
  getPublicSuffix ??= (createRequire(import.meta.url)('tldts') as { getPublicSuffix: GetPublicSuffix }).getPublicSuffix;
  return getPublicSuffix(name, { allowPrivateDomains: true, extractHostname: false, validateHostname: false }) === name;
}
