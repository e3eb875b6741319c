// The headers every page this server renders for a browser carries (/dashboard, GraphiQL): both
// hold keys in memory, so neither may be framed, sniffed, cached by proxies or leak a referrer,
// and each gets a Content-Security-Policy that allows nothing beyond what it needs.

export const BROWSER_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

/** The directives every page shares; `extra` adds to or replaces them (script-src, style-src, ...). */
export function contentSecurityPolicy(extra: Readonly<Record<string, string>> = {}): string {
  const directives: Record<string, string> = {
    'default-src': "'none'",
    'script-src': "'self'",
    'style-src': "'self'",
    'img-src': "'self' data:",
    'connect-src': "'self'",
    'base-uri': "'none'",
    'form-action': "'none'",
    'frame-ancestors': "'none'",
    ...extra,
  };
  return Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');
}
