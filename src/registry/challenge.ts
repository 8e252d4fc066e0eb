/**
 * RFC 7235 challenges as a registry sends them: `Bearer realm="https://auth/token",service="reg"`.
 * Only what hub needs: the scheme and its parameters (quoted strings with \-escapes, or tokens).
 */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const PARAM = new RegExp(`\\s*(${TOKEN})\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|(${TOKEN}))\\s*(,|$)`, 'y');

export function parseChallenge(header: string): Challenge | undefined {
  if (header.length > 4096) return undefined;
  const scheme = new RegExp(`^\\s*(${TOKEN})(?:\\s+|$)`).exec(header);
  if (!scheme) return undefined;
  // No prototype: a parameter may be called `constructor` or `__proto__`.
  const params: Record<string, string> = Object.create(null);
  PARAM.lastIndex = scheme[0].length;
  while (PARAM.lastIndex < header.length) {
    const match = PARAM.exec(header);
    if (!match) return undefined;
    const name = match[1]!.toLowerCase();
    // A repeated parameter is ambiguous; the first one counts, as in most clients.
    params[name] ??= match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!;
    if (match[4] === '') break;
  }
  return {scheme: scheme[1]!.toLowerCase(), params};
}
