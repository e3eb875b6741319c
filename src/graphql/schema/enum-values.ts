// Pothos enum values from one of the service's name arrays: the GraphQL name is the service name
// in upper case, so the schema's enums follow the service's sets without spelling them again.

type EnumValues<T extends string> = { [K in T as Uppercase<K>]: { value: K; description?: string } };

/** `descriptions`, when given, must name every member (add one when the set grows); undefined means none. */
export function enumValuesOf<const T extends string>(names: readonly T[], descriptions?: Readonly<Record<T, string | undefined>>): EnumValues<T> {
  const values: Record<string, { value: T; description?: string }> = {};
  for (const name of names) {
    const description = descriptions?.[name];
    values[name.toUpperCase()] = description === undefined ? { value: name } : { value: name, description };
  }
  return values as EnumValues<T>;
}
