// A versioned schema change. Versions only ever grow; an applied migration is never edited.

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** The migrations not yet applied, in version order; refuses a database newer than this code. */
export function pendingMigrations(all: readonly Migration[], applied: ReadonlySet<number>): Migration[] {
  const known = new Set(all.map((m) => m.version));
  const unknown = [...applied].filter((v) => !known.has(v));
  if (unknown.length > 0) {
    throw new Error(
      `The database has schema migrations this version of Cipherdex does not know (${unknown.join(', ')}); upgrade Cipherdex.`,
    );
  }
  return all.filter((m) => !applied.has(m.version)).sort((a, b) => a.version - b.version);
}
