// Tables of codes (`{ BAD_VERSION: 3, ... } as const`, a decoder's verdicts and drop reasons): the
// type of their codes, and their names for logs and counters, so that each code is named once,
// where it is defined.

/** The type of a table's values: `type Status = ValueOf<typeof Status>` is the union of its codes. */
export type ValueOf<Table> = Table[keyof Table];

/**
 * The names of a table of codes 0..n-1, indexed by code, in lower kebab case ('BAD_VERSION': 'bad-version');
 * indexed by one of the table's codes, the name is known to be there.
 */
export function codeNames<const Codes extends Readonly<Record<string, number>>>(
  codes: Codes,
): readonly string[] & Readonly<Record<Codes[keyof Codes], string>> {
  const names: string[] = [];
  for (const [key, code] of Object.entries(codes)) names[code] = key.toLowerCase().replaceAll('_', '-');
  return names as readonly string[] & Readonly<Record<Codes[keyof Codes], string>>;
}
