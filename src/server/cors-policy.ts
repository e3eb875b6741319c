// Cross-origin access, for yoga's `cors` option (yoga applies it with @whatwg-node/server's
// useCORS). Closed by default: no CORS headers at all, so a browser page from another origin
// cannot call the API (its preflight fails; the API key header and the JSON body both need one).
// CIPHERDEX_CORS_ORIGINS names the origins that may. Credentials are never allowed: the API key
// travels in a header the page sets itself, not in cookies the browser would attach.

import type { YogaServerOptions } from 'graphql-yoga';
import type { Config } from '../config.js';

type CorsOption = YogaServerOptions<object, object>['cors'];

export function corsPolicy(config: Pick<Config, 'corsOrigins'>): CorsOption {
  if (config.corsOrigins.length === 0) return false;
  const allowed = new Set(config.corsOrigins);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    // Only a listed origin is ever named back; any other gets no CORS header at all.
    if (origin === null || !allowed.has(origin)) return false;
    return {
      origin: [origin],
      credentials: false,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type', 'accept', 'x-api-key'],
      maxAge: 600,
    };
  };
}
