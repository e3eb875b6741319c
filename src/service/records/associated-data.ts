// The associated data each sealed record is bound to. It names the record kind, the index and,
// for items, the token the store files it under: a record moved to another index, another slot
// or another kind fails to open. Index names cannot contain ':' (see INDEX_NAME_PATTERN).

export function itemAad(index: string, token: Buffer): string {
  return `cipherdex/item/v1:${index}:${token.toString('hex')}`;
}

export function configAad(index: string): string {
  return `cipherdex/config/v1:${index}`;
}

export function modelAad(index: string): string {
  // Not bound to the model version: the store assigns the version only after the write, and a
  // concurrent writer on another replica would make any guess unreadable. A model is still bound
  // to its index, and its plaintext names the index again for defence in depth.
  return `cipherdex/model/v1:${index}`;
}

export function trainingRunAad(index: string, token: Buffer): string {
  return `cipherdex/training-run/v1:${index}:${token.toString('hex')}`;
}

export function commitmentAad(index: string): string {
  return `cipherdex/commitment/v1:${index}`;
}

export function segmentAad(index: string, setId: Buffer, segment: number): string {
  // The set id is random per set: a segment moved to another set, another position or another
  // index fails to open, so a set cannot be assembled from pieces of others.
  return `cipherdex/segment/v1:${index}:${setId.toString('hex')}:${segment}`;
}
