// Index records without key iteration (which only some keyv backends offer).
//
// keyv has no compare-and-set, so a single shared index record would lose entries when two
// replicas read-modify-write it at once. Instead every replica writes only its OWN segment
// (`ix:<name>:<replicaId>`); readers take the union of all replicas' segments. Within a process
// a Mutex serializes segment writes, so no addition is ever lost between replicas or within one.
//
// Remaining race, documented: the replica registry (`ix:replicas`) itself is shared. It is
// written once per new replica id, read back after writing and rewritten until it contains the
// id, which closes the race except when two NEW replicas register in the same instant and both
// read back before either overwrite lands; the loser re-registers at its next index write
// (every write re-checks the registry), so its segment becomes visible then.
// Removals delete the entity record (the source of truth); ids left in another replica's
// segment point at nothing and are skipped; each replica prunes such ids from its own segments.
import { Mutex } from './mutex.ts';
import type { TypedKv } from './kv.ts';
import { SCHEMA_VERSION, storedReplicasSchema, storedSegmentSchema } from './schema.ts';

const REGISTRY = 'ix:replicas';

/** Per-replica index segments stored in keyv. */
export class SegmentIndex {
  private readonly lock = new Mutex();
  private registered = false;

  constructor(
    private readonly kv: TypedKv,
    readonly replicaId: string,
  ) {}

  /** Adds ids to this replica's segment of `name`. */
  add(name: string, ...ids: string[]): Promise<void> {
    return this.lock.run(async () => {
      await this.register();
      const key = this.own(name);
      const seg = await this.kv.get(key, storedSegmentSchema);
      const set = new Set(seg?.ids ?? []);
      const before = set.size;
      for (const id of ids) set.add(id);
      if (set.size !== before || seg === undefined) await this.kv.set(key, { v: SCHEMA_VERSION, ids: [...set] });
    });
  }

  /** Removes ids from this replica's own segment of `name` (others' segments are not touched). */
  remove(name: string, ...ids: string[]): Promise<void> {
    return this.lock.run(async () => {
      const key = this.own(name);
      const seg = await this.kv.get(key, storedSegmentSchema);
      if (seg === undefined) return;
      const drop = new Set(ids);
      const kept = seg.ids.filter((id) => !drop.has(id));
      if (kept.length !== seg.ids.length) await this.kv.set(key, { v: SCHEMA_VERSION, ids: kept });
    });
  }

  /** Union of every replica's segment of `name`, without duplicates. */
  async read(name: string): Promise<string[]> {
    const replicas = await this.replicas();
    const segs = await this.kv.getMany(
      replicas.map((r) => `ix:${name}:${r}`),
      storedSegmentSchema,
    );
    const ids = new Set<string>();
    for (const seg of segs) for (const id of seg?.ids ?? []) ids.add(id);
    return [...ids];
  }

  /** Only this replica's segment of `name` (work this replica owns, like its outbox). */
  async readOwn(name: string): Promise<string[]> {
    return (await this.kv.get(this.own(name), storedSegmentSchema))?.ids ?? [];
  }

  private own(name: string): string {
    return `ix:${name}:${this.replicaId}`;
  }

  private async replicas(): Promise<string[]> {
    const reg = await this.kv.get(REGISTRY, storedReplicasSchema);
    const list = reg?.replicas ?? [];
    // Our own segments are readable even before registration completed.
    return list.includes(this.replicaId) ? list : [...list, this.replicaId];
  }

  private async register(): Promise<void> {
    if (this.registered) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      const reg = await this.kv.get(REGISTRY, storedReplicasSchema);
      if (reg?.replicas.includes(this.replicaId)) {
        this.registered = true;
        return;
      }
      await this.kv.set(REGISTRY, { v: SCHEMA_VERSION, replicas: [...(reg?.replicas ?? []), this.replicaId] });
      // Read back after a random pause: a concurrent registration may have overwritten ours.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 20 * (attempt + 1))));
    }
  }
}
