const HEADER = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64})\n/;

/**
 * Per tree (its id in full hex), the paths it changes against `base`'s tree (`base` is any tree-ish,
 * or `{ tree }`, the id of a tree the caller already read), all in one `diff-tree --stdin` rather
 * than one git process each.
 */
export async function changedPaths(
  git: (args: string[], input?: string) => Promise<string>, base: string | { tree: string }, others: string[],
): Promise<Map<string, Set<string>>> {
  const files = new Map(others.map((id) => [id, new Set<string>()]));
  if (others.length === 0) return files;
  const baseTree = typeof base !== 'string' ? base.tree : (await git(['rev-parse', base.endsWith('^{tree}') ? base : `${base}^{tree}`])).trim();
  // the base's own tree changes nothing; ask only for the others
  const asked = [...new Set(others)].filter((t) => t !== baseTree);
  if (asked.length === 0) return files;
  // with -z, each path ends in NUL, and each pair's header line ("<base> <other>\n") comes before its
  // first path, in the same field; a pair with no change prints its header alone, so a field may
  // start with several headers
  const output = await git(['diff-tree', '-r', '-z', '--name-only', '--no-renames', '--stdin'], asked.map((t) => `${baseTree} ${t}\n`).join(''));
  let current: Set<string> | undefined;
  for (let field of output.split('\0')) {
    for (let header = HEADER.exec(field); header && header[1] === baseTree && files.has(header[2]!); header = HEADER.exec(field)) {
      current = files.get(header[2]!);
      field = field.slice(header[0].length);
    }
    if (field !== '' && current) current.add(field);
  }
  return files;
}
