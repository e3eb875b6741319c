// Rows a codes-only list keeps exact, in float32, beside its codes: those its codec cannot code
// within its resolution (IVF_SQ8 clamps a value outside its trained per-dimension ranges, so the
// code of a vector written after training far outside them is far from the vector, and a search
// by that very vector could rank it below the re-rank window). A list's scan scores these rows
// exactly, on the scale of the code scores, so each is always a fair candidate for the re-rank; the
// next training codes them again under its own ranges. On in-distribution data there are none or
// a handful, so they live in plain JS arrays, not in the lists' WebAssembly memory.
import type { ExactEntries } from './list-contents.js';
import type { TopK } from './top-k.js';

/** One list's exact rows: `length` of them, the arrays grown by doubling. */
interface ExactPart {
  ids: Uint32Array;
  /** length x dimension floats (the row as the lists would code it: cosine rows unit length). */
  rows: Float32Array;
  norms: Float32Array;
  length: number;
}

const FIRST_CAPACITY = 4;

export class ExactRows {
  private readonly parts: (ExactPart | undefined)[] = [];
  private rowCount = 0;

  constructor(readonly dimension: number) {}

  /** Exact rows over every list. */
  get size(): number {
    return this.rowCount;
  }

  length(list: number): number {
    return this.parts[list]?.length ?? 0;
  }

  /** Ids of `list`'s exact rows by position; entries past `length(list)` are stale. */
  ids(list: number): Uint32Array {
    return this.parts[list]?.ids ?? EMPTY_IDS;
  }

  norm(list: number, position: number): number {
    return (this.parts[list] as ExactPart).norms[position];
  }

  /** A view of the row at `position` of `list` (dimension floats), valid until the list changes. */
  row(list: number, position: number): Float32Array {
    const part = this.parts[list] as ExactPart;
    return part.rows.subarray(position * this.dimension, (position + 1) * this.dimension);
  }

  /** Appends the row at float index `from` of `source` (its first `dimension` floats) to `list`; returns its position. */
  add(list: number, id: number, source: Float32Array, from: number, norm: number): number {
    const d = this.dimension;
    let part = this.parts[list];
    if (part === undefined) {
      part = { ids: new Uint32Array(FIRST_CAPACITY), rows: new Float32Array(FIRST_CAPACITY * d), norms: new Float32Array(FIRST_CAPACITY), length: 0 };
      this.parts[list] = part;
    } else if (part.length === part.ids.length) {
      const capacity = part.length * 2;
      part.ids = grown(part.ids, new Uint32Array(capacity));
      part.rows = grown(part.rows, new Float32Array(capacity * d));
      part.norms = grown(part.norms, new Float32Array(capacity));
    }
    const position = part.length++;
    part.ids[position] = id;
    part.rows.set(source.subarray(from, from + d), position * d);
    part.norms[position] = norm;
    this.rowCount++;
    return position;
  }

  /**
   * Removes the row at `position` of `list`, moving the list's last row into the hole; returns
   * the id of the row moved there, or -1 when the removed row was the last.
   */
  remove(list: number, position: number): number {
    const part = this.parts[list] as ExactPart;
    const last = --part.length;
    this.rowCount--;
    if (last === 0) {
      // An emptied list frees its arrays: exact rows are rare, and a list that had some may never again.
      this.parts[list] = undefined;
      return -1;
    }
    if (position === last) return -1;
    const d = this.dimension;
    part.ids[position] = part.ids[last];
    part.rows.copyWithin(position * d, last * d, (last + 1) * d);
    part.norms[position] = part.norms[last];
    return part.ids[position];
  }

  /**
   * Offers `list`'s rows to `best` with the score a code scan gives a row: ||x||^2 - 2 q.x +
   * `constant` (twice the query's constant the codes leave out: ListCodec.queryConstant), with q.x
   * exact, for the float32 query at float index `from` of `query`.
   */
  offer(best: TopK, list: number, query: Float32Array, from: number, constant: number, filter?: (id: number) => boolean): void {
    const part = this.parts[list];
    if (part === undefined) return;
    const d = this.dimension;
    const { rows, norms, ids } = part;
    for (let i = 0; i < part.length; i++) {
      let dot = 0;
      for (let t = 0, at = i * d; t < d; t++) dot += query[from + t] * rows[at + t];
      best.offer(norms[i] - 2 * dot + constant, ids[i], filter);
    }
  }

  /** A copy of `list`'s rows, or undefined when it has none. */
  export(list: number): ExactEntries | undefined {
    const part = this.parts[list];
    if (part === undefined || part.length === 0) return undefined;
    return { ids: part.ids.slice(0, part.length), rows: part.rows.slice(0, part.length * this.dimension), norms: part.norms.slice(0, part.length) };
  }

  /**
   * Makes `entries` the rows of the empty `list`, taking their arrays as they are (a copy made by
   * export, or posted from another thread); returns their count.
   */
  adopt(list: number, entries: ExactEntries): number {
    const n = entries.ids.length;
    if (this.length(list) !== 0) throw new RangeError('adopt needs a list without exact rows');
    if (entries.rows.length !== n * this.dimension || entries.norms.length !== n) throw new RangeError('exact rows of the wrong shape');
    if (n === 0) return 0;
    this.parts[list] = { ids: entries.ids, rows: entries.rows, norms: entries.norms, length: n };
    this.rowCount += n;
    return n;
  }

  /**
   * Keeps, in order, the rows of `list` whose id `slotOf` maps to a slot (>= 0), calling
   * `placed(slot, position)` for each at its new position, and drops the others.
   */
  retain(list: number, slotOf: (id: number) => number, placed: (slot: number, position: number) => void): void {
    const part = this.parts[list];
    if (part === undefined) return;
    const d = this.dimension;
    let kept = 0;
    for (let i = 0; i < part.length; i++) {
      const slot = slotOf(part.ids[i]);
      if (slot < 0) continue;
      if (kept !== i) {
        part.ids[kept] = part.ids[i];
        part.rows.copyWithin(kept * d, i * d, (i + 1) * d);
        part.norms[kept] = part.norms[i];
      }
      placed(slot, kept++);
    }
    this.rowCount -= part.length - kept;
    part.length = kept;
    if (kept === 0) this.parts[list] = undefined;
  }

  /** Bytes held (the arrays, at their capacity, and a small estimate per list that has any). */
  bytes(): number {
    let bytes = this.parts.length * 8;
    for (const part of this.parts) if (part !== undefined) bytes += part.ids.byteLength + part.rows.byteLength + part.norms.byteLength + 64;
    return bytes;
  }
}

const EMPTY_IDS = new Uint32Array(0);

function grown<T extends Uint32Array | Float32Array>(from: T, into: T): T {
  into.set(from);
  return into;
}
