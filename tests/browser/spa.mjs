// What the browser end-to-end tests (e2e.mjs) and the browser part of `make demo` (demo.mjs)
// share: the bundled Keycloak's settings, the SPA (the package README's quickstart importing the
// PACKED package) served on loopback, and Debian's Chromium with a fresh profile that cannot
// reach beyond loopback.
//
// Environment: TW_KC_ENV (KC_URL, TW_VION_USER_PASSWORD), TW_APP_DIR (node_modules/tokenward),
// TW_BROWSER_TOOLS (node_modules/playwright-core), TW_ARTIFACTS (screenshots), TW_SPA_PORT.
import { createServer } from 'node:http';
import { readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, extname, normalize } from 'node:path';

/** The variables tests/keycloak/start wrote (KC_URL, the generated secrets and passwords). */
export const env = Object.fromEntries(
  readFileSync(process.env.TW_KC_ENV, 'utf8').split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
export const KC = env.KC_URL;
export const PORT = +(process.env.TW_SPA_PORT ?? 8765);
export const ORIGIN = `http://127.0.0.1:${PORT}`;
export const pkgDir = join(process.env.TW_APP_DIR, 'node_modules', 'tokenward');
export const artifacts = process.env.TW_ARTIFACTS;
mkdirSync(artifacts, { recursive: true });

/** The package README's quickstart, as the README shows it (its Keycloak URL a placeholder). */
export const quickstart = readFileSync(join(pkgDir, 'README.md'), 'utf8').match(/```js\n([\s\S]*?)```/)[1];
export const PLACEHOLDER_KC = "'http://127.0.0.1:8080'";

const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.html': 'text/html', '.css': 'text/css' };

/**
 * Serves the SPA on ORIGIN: `/` and `/callback` its page (`body` inside), `/app.js` the
 * quickstart pointed at the bundled Keycloak, `/node_modules/tokenward/` the installed package.
 * Any other path goes to `route(url, req, send)`; 404 when it returns nothing. Resolves once
 * listening.
 */
export async function serveSpa(body, route = () => {}) {
  const appJs = quickstart.replace(PLACEHOLDER_KC, JSON.stringify(KC));
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>tokenward SPA</title>
<script type="importmap">{"imports":{"tokenward":"/node_modules/tokenward/index.js"}}</script>
<script type="module" src="/app.js"></script></head>
<body>${body}</body></html>`;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, ORIGIN);
    const send = (status, type, data) => res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(data);
    try {
      if (url.pathname === '/' || url.pathname === '/callback') return send(200, 'text/html', html);
      if (url.pathname === '/app.js') return send(200, 'text/javascript', appJs);
      if (url.pathname.startsWith('/node_modules/tokenward/')) return sendFile(send, pkgDir, url.pathname.slice('/node_modules/tokenward/'.length));
      if ((await route(url, req, send)) === undefined && !res.headersSent) send(404, 'text/plain', 'not found');
    } catch (e) {
      send(500, 'text/plain', String(e));
    }
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(PORT, '127.0.0.1', resolve));
  return server;
}

/** `rel` under `dir`, never above it. */
export function sendFile(send, dir, rel) {
  const path = normalize(rel || 'index.html');
  if (path.startsWith('..')) return send(404, 'text/plain', 'no');
  return send(200, types[extname(path)] ?? 'application/octet-stream', readFileSync(join(dir, path)));
}

/**
 * Debian's Chromium, headless, in a fresh profile; every host name but 127.0.0.1 fails to
 * resolve, so nothing leaves loopback. `close()` also removes the profile.
 */
export async function launchChromium(options = {}) {
  const { chromium } = createRequire(join(process.env.TW_BROWSER_TOOLS, 'x.js'))('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'tw-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    ...options,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, close };
}

/** Waits until the SPA's `#status` line matches `re`. */
export const waitStatus = (page, re) =>
  page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#status')?.textContent ?? ''), re.source, { timeout: 20000 });
