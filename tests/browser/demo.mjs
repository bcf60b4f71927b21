// The browser part of `make demo` (scripts/demo): the README quickstart as an SPA, importing the
// PACKED package, logs vion-user in through the bundled Keycloak's real login page in headless
// Chromium (authorization code + PKCE S256), then shows the token, a refresh and the logout URL.
// Screenshots go to $TW_ARTIFACTS; their paths are printed.
//
// Environment as tests/browser/e2e.mjs: TW_KC_ENV, TW_APP_DIR, TW_BROWSER_TOOLS, TW_ARTIFACTS,
// TW_SPA_PORT.
import { createServer } from 'node:http';
import { readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, extname, normalize } from 'node:path';

const env = Object.fromEntries(
  readFileSync(process.env.TW_KC_ENV, 'utf8').split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const KC = env.KC_URL;
const PORT = +(process.env.TW_SPA_PORT ?? 8765);
const ORIGIN = `http://127.0.0.1:${PORT}`;
const pkgDir = join(process.env.TW_APP_DIR, 'node_modules', 'tokenward');
const artifacts = process.env.TW_ARTIFACTS;
mkdirSync(artifacts, { recursive: true });
const { chromium } = createRequire(join(process.env.TW_BROWSER_TOOLS, 'x.js'))('playwright-core');

// The SPA: the package README's quickstart, pointed at the bundled Keycloak.
const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
const appJs = readme.match(/```js\n([\s\S]*?)```/)[1].replace("'http://127.0.0.1:8080'", JSON.stringify(KC));
const html = `<!doctype html><html><head><meta charset="utf-8"><title>tokenward SPA</title>
<script type="importmap">{"imports":{"tokenward":"/node_modules/tokenward/index.js"}}</script>
<script type="module" src="/app.js"></script></head>
<body style="font: 16px sans-serif; margin: 2em"><h1>tokenward demo SPA</h1><button id="login">Log in</button>
<p id="status">loading</p><pre id="out"></pre></body></html>`;
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer((req, res) => {
  const url = new URL(req.url, ORIGIN);
  const send = (status, type, body) => res.writeHead(status, { 'content-type': type }).end(body);
  if (url.pathname === '/' || url.pathname === '/callback') return send(200, 'text/html', html);
  if (url.pathname === '/app.js') return send(200, 'text/javascript', appJs);
  if (url.pathname.startsWith('/node_modules/tokenward/')) {
    const rel = normalize(url.pathname.slice('/node_modules/tokenward/'.length));
    if (!rel.startsWith('..')) return send(200, types[extname(rel)] ?? 'application/octet-stream', readFileSync(join(pkgDir, rel)));
  }
  // The quickstart's API call: a stand-in that greets whoever the token names.
  if (url.pathname === '/api/me') {
    const claims = JSON.parse(Buffer.from((req.headers.authorization ?? '..').split('.')[1] ?? '', 'base64url') || '{}');
    return send(200, 'application/json', JSON.stringify({ preferred_username: claims.preferred_username }));
  }
  send(404, 'text/plain', 'not found');
});
await new Promise((resolve, reject) => server.once('error', reject).listen(PORT, '127.0.0.1', resolve));

const profile = mkdtempSync(join(tmpdir(), 'tw-demo-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 900, height: 640 },
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
});
const page = context.pages()[0] ?? (await context.newPage());
const shots = [];
const shot = async (name) => {
  const path = join(artifacts, `demo-${shots.length + 1}-${name}.png`);
  await page.screenshot({ path });
  shots.push(path);
};
const status = (re) => page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#status')?.textContent ?? ''), re.source, { timeout: 20000 });
const say = (...a) => console.log(...a);
let failed = false;
try {
  await page.goto(`${ORIGIN}/`);
  await status(/Please log in/);
  await shot('spa-logged-out');
  say(`SPA ${ORIGIN}/ (the README quickstart, the packed npm package): "${await page.textContent('#status')}"`);

  await Promise.all([page.waitForURL(`${KC}/realms/vion/protocol/openid-connect/auth?**`), page.click('#login')]);
  const auth = new URL(page.url());
  say(`login redirect: ${auth.origin}${auth.pathname}`);
  say(`  client_id=${auth.searchParams.get('client_id')} code_challenge_method=${auth.searchParams.get('code_challenge_method')}` +
    ` code_challenge=${auth.searchParams.get('code_challenge').slice(0, 12)}... state, nonce: 256 random bits each`);
  await page.waitForSelector('#username');
  await page.fill('#username', 'vion-user');
  await page.fill('#password', env.TW_VION_USER_PASSWORD);
  await shot('keycloak-login-page');
  await Promise.all([page.waitForURL(`${ORIGIN}/callback**`), page.click('#kc-login')]);
  await status(/Hello vion-user/);
  say(`callback ${new URL(page.url()).pathname}: state + iss checked, code exchanged with the PKCE verifier; the page says "${await page.textContent('#status')}"`);

  // The same client the quickstart built, from inside the page.
  const r = await page.evaluate(async (kc) => {
    const { Client } = await import('tokenward');
    const c = new Client({ url: kc, realm: 'vion', clientId: 'vion-spa', redirectUri: `${location.origin}/callback` });
    const brief = (t) => { const x = JSON.parse(atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))); return { jti: x.jti ?? x.sid, iat: x.iat, exp: x.exp }; };
    const before = await c.accessToken();
    const claims = c.claims();
    const after = await c.refresh();
    const logout = c.logoutUrl({ postLogoutRedirectUri: `${location.origin}/callback` });
    document.querySelector('#out').textContent = `access token for ${claims.preferred_username} (azp ${claims.azp}, expires ${new Date(claims.exp * 1000).toISOString()})\n` +
      `refreshed: a new token (${brief(after).jti}), the old one was ${brief(before).jti}\nlogout URL: ${logout.slice(0, 90)}...`;
    return { claims, before: brief(before), after: brief(after), changed: before !== after, logout, length: before.length };
  }, KC);
  await shot('logged-in-token-refresh');
  say(`token: a ${r.length}-character JWT for ${r.claims.preferred_username} (iss ${r.claims.iss}, azp ${r.claims.azp}, roles ${JSON.stringify(r.claims.realm_access?.roles ?? [])}), expires in ${r.claims.exp - Math.floor(Date.now() / 1000)} s`);
  say(`refresh: ${r.changed ? 'a new access token' : 'THE SAME TOKEN (unexpected)'} from the refresh token: jti ${r.before.jti} -> ${r.after.jti}, exp ${r.before.exp} -> ${r.after.exp}`);
  const lo = new URL(r.logout);
  say(`logout URL: ${lo.origin}${lo.pathname}?client_id=${lo.searchParams.get('client_id')}&id_token_hint=<ID token>&post_logout_redirect_uri=${lo.searchParams.get('post_logout_redirect_uri')}`);
  await page.goto(r.logout);
  await page.waitForURL(`${ORIGIN}/**`, { timeout: 20000 });
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await status(/Please log in/);
  await shot('after-logout');
  say(`after the logout URL: back on ${new URL(page.url()).pathname}, "${await page.textContent('#status')}"`);
  failed = !r.changed;
} catch (e) {
  failed = true;
  console.error(`browser demo failed: ${e.stack ?? e}`);
  await shot('failure').catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  server.close();
}
say('screenshots:');
for (const p of shots) say(`  ${p}`);
process.exitCode = failed ? 1 : 0;
