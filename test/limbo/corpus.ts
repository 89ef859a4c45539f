// The x509-limbo corpus copy (limbo-core.json.gz, Apache-2.0, see NOTICE.md): its SERVER cases,
// read by the conformance runner (run.ts) and the pkijs measurement (pkijs.ts).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One test case, the fields certwatch uses (schema in shared/limbo/README.md). */
export interface LimboCase {
  id: string;
  validation_kind: string;
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  expected_peer_name: { kind: string; value: string } | null;
  max_chain_depth: number | null;
  crls: string[];
  expected_result: 'SUCCESS' | 'FAILURE';
}

/** The SERVER cases, in corpus order. */
export function serverCases(): LimboCase[] {
  const corpus = JSON.parse(gunzipSync(readFileSync(new URL('./limbo-core.json.gz', import.meta.url))).toString('utf8')) as { testcases: LimboCase[] };
  return corpus.testcases.filter((c) => c.validation_kind === 'SERVER');
}
