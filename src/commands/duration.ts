// Durations as users type them in chat: 30m, 12h, 7d, 2w, or combined like 1d12h.

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** The longest mute accepted: a forgotten mute must not silence a target for good. */
export const MAX_DURATION_MS = 366 * UNIT_MS.d;

/** Milliseconds for "7d", "12h", "30m", "2w", "1d12h"; undefined when malformed or out of range. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim().toLowerCase();
  if (s.length === 0 || s.length > 20 || !/^(\d{1,4}[mhdw])+$/.test(s)) return undefined;
  let total = 0;
  const seen = new Set<string>();
  for (const m of s.matchAll(/(\d{1,4})([mhdw])/g)) {
    const unit = m[2] as Unit;
    if (seen.has(unit)) return undefined;
    seen.add(unit);
    total += Number(m[1]) * UNIT_MS[unit];
  }
  if (total < UNIT_MS.m || total > MAX_DURATION_MS) return undefined;
  return total;
}

/** A duration for people: "7d", "1d 12h", "45m". */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / UNIT_MS.m) * UNIT_MS.m;
  for (const unit of ['d', 'h', 'm'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * UNIT_MS[unit];
  }
  return parts.length === 0 ? '0m' : parts.join(' ');
}
