// zod schemas for every stored value. Each value carries its schema version `v`; a value that
// does not parse (older or newer version, hand edits, corruption) is reported and skipped.
import { z } from 'zod';
import { problemCodes } from '../cert/types.ts';
import type { CertificateInfo } from '../cert/types.ts';
import type { ChannelRef, Reply } from '../chat/types.ts';
import type { ChannelSettings, LatestResults, TargetRecord } from '../core/services.ts';
import { errorCodes } from '../probe/errors.ts';
import { protocolNames } from '../probe/protocols/index.ts';
import { noteCodes, type ProbeResult } from '../probe/result.ts';
import type { Target } from '../probe/target.ts';

/** Current schema version of every value written by this build. */
export const SCHEMA_VERSION = 1;
/** Field schemas every stored kind shares (targets here, mail domains in mail-domains.ts). */
export const v = z.literal(SCHEMA_VERSION);
export const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'not an ISO 8601 date' });
export const status = z.enum(['ok', 'warning', 'critical', 'error']);
/** A target's or mail domain's short id; both share one id space. */
export const entryId = z.string().regex(/^[a-z0-9]{4,16}$/);
export const userRefSchema = z.object({ id: z.string().max(200), name: z.string().max(200).optional() });

export const channelRefSchema: z.ZodType<ChannelRef> = z.object({
  platform: z.enum(['slack', 'telegram', 'console']),
  channelId: z.string().min(1).max(200),
  threadId: z.string().max(200).optional(),
});

export const targetSchema: z.ZodType<Target> = z.object({
  input: z.string().max(1000),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(protocolNames),
  mode: z.enum(['implicit', 'starttls']),
  servername: z.string().max(253),
});

export const thresholds = z.array(z.number().int().min(0).max(3650)).max(20);

/** What every watched entry (a target, a mail domain) carries after its id and what it watches: owner, label, thresholds, mute. */
export const watchedEntryFields = {
  channel: channelRefSchema,
  addedBy: userRefSchema,
  addedAt: iso,
  label: z.string().max(200).optional(),
  thresholds: thresholds.optional(),
  mutedUntil: iso.optional(),
};

// Field order is validation order: the first problem reported for a bad record names `target`
// before the owner fields, as it always has (the store's tests and logs read it).
const targetRecordFields = {
  id: entryId,
  target: targetSchema,
  caPem: z.string().max(200_000).optional(),
  ...watchedEntryFields,
};
export const targetRecordSchema: z.ZodType<TargetRecord> = z.object(targetRecordFields);
/** A stored target: the record plus its schema version. */
export const storedTargetSchema = z.object({ v, ...targetRecordFields });

const problemSchema = z.object({ code: z.enum(problemCodes), severity: z.enum(['warning', 'critical']), message: z.string() });

export const certificateInfoSchema: z.ZodType<CertificateInfo> = z.object({
  subject: z.string(),
  issuer: z.string(),
  sans: z.array(z.string()),
  notBefore: z.string(),
  notAfter: z.string(),
  daysLeft: z.number(),
  serialNumber: z.string(),
  fingerprint256: z.string(),
  keyType: z.string(),
  keyBits: z.number(),
  signatureAlgorithm: z.string(),
  selfSigned: z.boolean(),
});

export const probeResultSchema: z.ZodType<ProbeResult> = z.object({
  target: targetSchema,
  address: z.string().nullable(),
  status,
  problems: z.array(problemSchema),
  // Optional: results stored before notes existed have none.
  notes: z.array(z.object({ code: z.enum(noteCodes), message: z.string() })).optional(),
  error: z.object({ code: z.enum(errorCodes), message: z.string() }).nullable(),
  tls: z.object({ version: z.string(), cipher: z.string() }).nullable(),
  certificate: certificateInfoSchema.nullable(),
  chain: z.array(certificateInfoSchema),
  trusted: z.boolean().nullable(),
  hostnameMatch: z.boolean().nullable(),
  checkedAt: z.string(),
  timings: z.object({
    totalMs: z.number(),
    dnsMs: z.number().optional(),
    connectMs: z.number().optional(),
    starttlsMs: z.number().optional(),
    tlsMs: z.number().optional(),
  }),
});

const latestFields = { targetId: z.string(), checkedAt: iso, status, results: z.array(probeResultSchema).max(64) };
export const latestResultsSchema: z.ZodType<LatestResults> = z.object(latestFields);
export const storedLatestSchema = z.object({ v, ...latestFields });

/** Most consecutive failed checks before a problem is posted: FAIL_AFTER and `settings failafter` alike. */
export const MAX_FAIL_AFTER = 100;
const settingsFields = { thresholds: thresholds.min(0), failAfter: z.number().int().min(1).max(MAX_FAIL_AFTER), digest: z.boolean() };
export const channelSettingsSchema: z.ZodType<ChannelSettings> = z.object(settingsFields);
export const storedSettingsSchema = z.object({ v, ...settingsFields });

/** What the alert policy remembers about one certificate (by SHA-256 fingerprint). */
export const certMemorySchema = z.object({
  notAfter: iso,
  /** Smallest threshold already posted (or consumed during a mute); null: none yet. */
  lowestPosted: z.number().nullable(),
  firstSeen: iso,
  lastSeen: iso,
});

/** What the alert policy remembers about one problem code or UNREACHABLE. */
export const issueMemorySchema = z.object({
  /** Consecutive results with the issue present. */
  streak: z.number().int().min(0),
  /** Consecutive results without it (recovery hysteresis). */
  clearStreak: z.number().int().min(0),
  /** posted: the channel was told; muted: it started during a mute and was not posted. */
  announced: z.enum(['posted', 'muted']).nullable(),
  /** Counts announcements, so each episode has its own idempotency key. */
  episode: z.number().int().min(0),
  /** Last message describing it (for the recovery text). */
  detail: z.string().max(2000),
});

const alertStateFields = {
  targetId: z.string(),
  certs: z.record(z.string(), certMemorySchema),
  issues: z.record(z.string(), issueMemorySchema),
  updatedAt: iso,
};
export const alertStateSchema = z.object(alertStateFields);
export const storedAlertStateSchema = z.object({ v, ...alertStateFields });
/** Alert policy memory for one target. */
export type AlertState = z.infer<typeof alertStateSchema>;
export type CertMemory = z.infer<typeof certMemorySchema>;
export type IssueMemory = z.infer<typeof issueMemorySchema>;

const buttonSchema = z.object({ label: z.string(), command: z.string(), style: z.enum(['primary', 'danger']).optional() });
export const replySchema: z.ZodType<Reply> = z.object({
  title: z.string(),
  status: z.enum(['ok', 'warning', 'critical', 'error', 'info']).optional(),
  text: z.array(z.string()).optional(),
  fields: z.array(z.object({ label: z.string(), value: z.string() })).optional(),
  items: z.array(z.string()).optional(),
  buttons: z.array(buttonSchema).optional(),
  ephemeral: z.boolean().optional(),
});

const outboxFields = {
  /** Deterministic idempotency key (src/outbox/keys.ts). */
  key: z.string().regex(/^[a-f0-9]{32,64}$/),
  channel: channelRefSchema,
  message: replySchema,
  /** Human-readable origin, e.g. "k3x9p2 threshold:AB:..:7". */
  origin: z.string().max(500),
  state: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int().min(0),
  createdAt: iso,
  /** Earliest next attempt (backoff, Retry-After). */
  notBefore: iso,
  deliveredAt: iso.optional(),
  lastError: z.string().max(1000).optional(),
};
export const outboxEntrySchema = z.object(outboxFields);
export const storedOutboxEntrySchema = z.object({ v, ...outboxFields });
/** A persisted message awaiting (or done with) delivery. */
export type OutboxEntry = z.infer<typeof outboxEntrySchema>;

/** One bucket of an index segment: ids written by one replica and their insertion sequence (see src/store/segments.ts). */
export const storedSegmentSchema = z
  .object({
    v,
    ids: z.array(z.string()),
    seq: z.array(z.number()),
    /** The bucket was unreadable when it was last rewritten: the ids it held are missing until a reader rebuilds them. */
    lost: z.literal(true).optional(),
  })
  .refine((b) => b.ids.length === b.seq.length, { message: 'ids and seq differ in length', path: ['seq'] });
export type StoredSegment = z.infer<typeof storedSegmentSchema>;
/** The list of replicas that own index segments. */
export const storedReplicasSchema = z.object({ v, replicas: z.array(z.string()) });
