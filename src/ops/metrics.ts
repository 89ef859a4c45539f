// Prometheus metrics on a private registry (no global default registry: no module state).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LatestResults, TargetRecord } from '../core/services.ts';
import { formatHostPort } from '../probe/errors.ts';

/** Sources read at scrape time. */
export interface MetricsSources {
  outboxPending: () => number;
}

/** The bot's metrics. */
export class Metrics {
  readonly registry = new Registry();
  private readonly daysLeft: Gauge<'target' | 'endpoint'>;
  private readonly success: Gauge<'target' | 'endpoint'>;
  private readonly runDuration: Histogram<'reason'>;
  private readonly probes: Counter<'status'>;
  private readonly known = new Map<string, string>();

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'certwatch_' });
    this.daysLeft = new Gauge({ name: 'certwatch_certificate_days_left', help: 'Days until the soonest-expiring leaf certificate of a target expires (any address)', labelNames: ['target', 'endpoint'], registers });
    this.success = new Gauge({ name: 'certwatch_probe_success', help: '1 if every address of the target yielded a certificate at the last check, else 0', labelNames: ['target', 'endpoint'], registers });
    this.runDuration = new Histogram({ name: 'certwatch_run_duration_seconds', help: 'Duration of check runs', labelNames: ['reason'], buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800], registers });
    this.probes = new Counter({ name: 'certwatch_checks_total', help: 'Target checks by resulting status', labelNames: ['status'], registers });
    new Gauge({
      name: 'certwatch_outbox_pending',
      help: 'Messages waiting for delivery',
      registers,
      collect() {
        this.set(sources.outboxPending());
      },
    });
  }

  /** Updates the per-target gauges after a check. */
  recordCheck(record: TargetRecord, latest: LatestResults): void {
    const labels = { target: record.id, endpoint: formatHostPort(record.target.host, record.target.port) };
    this.known.set(record.id, labels.endpoint);
    const days = latest.results.flatMap((r) => (r.certificate === null ? [] : [r.certificate.daysLeft]));
    if (days.length > 0) this.daysLeft.set(labels, Math.min(...days));
    else this.daysLeft.remove(labels);
    const ok = latest.results.length > 0 && latest.results.every((r) => r.certificate !== null);
    this.success.set(labels, ok ? 1 : 0);
    this.probes.inc({ status: latest.status });
  }

  /** Records a run; a full run also drops series of targets that no longer exist. */
  recordRun(reason: string, durationMs: number, presentIds?: ReadonlySet<string>): void {
    this.runDuration.observe({ reason }, durationMs / 1000);
    if (presentIds === undefined) return;
    for (const [id, endpoint] of this.known) {
      if (presentIds.has(id)) continue;
      this.daysLeft.remove({ target: id, endpoint });
      this.success.remove({ target: id, endpoint });
      this.known.delete(id);
    }
  }

  /** The exposition text for /metrics. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
