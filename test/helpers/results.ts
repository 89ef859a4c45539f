// Minimal probe results of a given status, for tests of rendering, streaming and exit status.
import type { ProbeResult, Status } from '../../src/probe/result.ts';

/** A result of `status` (an error result carries CONNECT_REFUSED), changed by `overrides`. */
export function probeResult(status: Status, overrides: Partial<ProbeResult> = {}): ProbeResult {
  return {
    target: { input: 'x.example', host: 'x.example', port: 443, protocol: 'https', mode: 'implicit', servername: 'x.example' },
    address: '192.0.2.1',
    status,
    problems: [],
    error: status === 'error' ? { code: 'CONNECT_REFUSED', message: 'refused' } : null,
    tls: null,
    certificate: null,
    chain: [],
    trusted: null,
    hostnameMatch: null,
    checkedAt: '2030-01-01T00:00:00.000Z',
    timings: { totalMs: 1 },
    ...overrides,
  };
}
