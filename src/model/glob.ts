const cache = new Map<string, RegExp>();

/** `team-*` → /^team-.*$/. Only `*` is special; everything else is literal. Compiled once per pattern. */
export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (!re) {
    re = new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    cache.set(glob, re);
  }
  return re;
}

export function matchesGlob(value: string, glob: string): boolean {
  return glob === '*' || glob === value || (glob.includes('*') && globToRegExp(glob).test(value));
}
