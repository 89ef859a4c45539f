import { randomInt } from 'node:crypto';
import type { TargetRepository } from '../core/services.ts';

// No 0/o, 1/l/i: ids are read off a chat message and typed back.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const ID_LENGTH = 6;
/** What a stored target id may look like (the store's schema); used to try an id lookup first. */
export const ID_PATTERN = /^[a-z0-9]{4,16}$/;

/** A short random id not used by any stored target (31^6 ≈ 887 million). */
export async function newTargetId(repo: TargetRepository): Promise<string> {
  for (let attempt = 0; attempt < 8; attempt++) {
    let id = '';
    for (let i = 0; i < ID_LENGTH; i++) id += ALPHABET[randomInt(ALPHABET.length)];
    if ((await repo.getTarget(id)) === undefined) return id;
  }
  throw new Error('could not find a free target id after 8 attempts');
}
