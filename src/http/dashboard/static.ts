import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { unavailable } from '../../core/errors.js';

/** Where `vite build` writes the dashboard (web/dist), from src/http/dashboard or dist/http/dashboard alike. */
export const WEB_ROOT = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * The page may load only its own scripts, styles and images and talk only to
 * this server; no inline script, no framing, no plugins, no foreign forms.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
}

/** Every built file, read once: the set of servable paths is fixed, so no request path ever reaches the file system. */
function readAssets(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const type = TYPES[extname(entry)];
        if (type) assets.set(`/${relative(root, path).split(sep).join('/')}`, { body: readFileSync(path), type });
      }
    }
  };
  try {
    walk(root);
  } catch {
    // Not built: `/` explains that below.
  }
  return assets;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin');
}

/** Serves the built dashboard: `/` is index.html, hashed files under /assets are cached for good. */
export async function dashboardStatic(app: FastifyInstance, opts: { root?: string }): Promise<void> {
  const assets = readAssets(opts.root ?? WEB_ROOT);

  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const index = assets.get('/index.html');
    if (!index) throw unavailable('dashboard_not_built', 'the dashboard is not built: run `npm run build` (or `npm run build:web` for the page alone)');
    return securityHeaders(reply).header('cache-control', 'no-cache').type(index.type).send(index.body);
  });

  app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const asset = assets.get(`/assets/${request.params['*']}`);
    if (!asset) return reply.status(404).send({ error: { code: 'asset_not_found', message: 'no such dashboard file' } });
    return securityHeaders(reply).header('cache-control', 'public, max-age=31536000, immutable').type(asset.type).send(asset.body);
  });
}
