// A trained index's inverted lists as plain arrays: what a sealed segment set persists so that an
// open installs the lists as they were instead of inserting (and encoding) every vector again.

/** One list's entries, in list order. */
export interface ListEntries {
  ids: Uint32Array;
  /** length x stride floats (the rows as the lists keep them), or null when only codes are kept. */
  rows: Float32Array | null;
  /** The squared norm kept beside each entry (0 for cosine rows). */
  norms: Float32Array;
  /** length x codeBytes, or null when the lists keep no codes. */
  codes: Uint8Array | null;
  /**
   * Codes-only lists: the rows the codec could not code within its resolution, kept exact beside
   * the codes (exact-rows.ts); absent when the list has none.
   */
  exact?: ExactEntries;
}

/** A list's exact rows: ids, rows (n x dimension floats, as the lists would code them) and squared norms (0 for cosine). */
export interface ExactEntries {
  ids: Uint32Array;
  rows: Float32Array;
  norms: Float32Array;
}

/** Every list of a trained index, and what is needed to read its entries back. */
export interface ListContents {
  nLists: number;
  /** Floats per stored row: 0 when the lists keep only codes. */
  stride: number;
  codeBytes: number;
  /** The parameters of the codec the codes were written with (IVF_FLAT's pre-scan quantizer, or the model's codec); null without codes. */
  codec: Uint8Array | null;
  lists: ListEntries[];
}

/** What lists hold, without the lists: ListContents' header, as exportLists gives it. */
export type ListShape = Omit<ListContents, 'lists'>;

/**
 * An import of lists given one at a time, in list order (VectorIndex.beginImport): `add` takes a
 * list's ids and has `fill` write its entries' rows, norms and codes (as exportLists gives them,
 * as bytes) into the regions it is handed; `entries`, when the caller holds them as arrays, are
 * checked against the shape and give the list's exact rows. `commit` makes the lists the index's.
 */
export interface ListImport {
  add(ids: Uint32Array, fill: (regions: ListRegions) => void, entries?: ListEntries): void;
  commit(): void;
}

/** Where a list's entries are written: its rows (null without rows), norms and codes (null without), as bytes. */
export interface ListRegions {
  rows: Uint8Array | null;
  norms: Uint8Array;
  codes: Uint8Array | null;
}

/** `entries`' rows, norms and codes as the bytes they lie in: what an import's `fill` writes, read from arrays. */
export function regionsOf(entries: ListEntries): ListRegions {
  const bytes = (values: Float32Array): Uint8Array => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return { rows: entries.rows && bytes(entries.rows), norms: bytes(entries.norms), codes: entries.codes };
}

/** Writes `entries`' rows, norms and codes into an import's regions (those the lists keep). */
export function copyEntries(entries: ListEntries, regions: ListRegions): void {
  const from = regionsOf(entries);
  if (regions.rows !== null && from.rows !== null) regions.rows.set(from.rows);
  regions.norms.set(from.norms);
  if (regions.codes !== null && from.codes !== null) regions.codes.set(from.codes);
}
