// The browser part of `make demo` (scripts/demo): the README quickstart as an SPA, importing the
// PACKED package, logs vion-user in through the bundled Keycloak's real login page in headless
// Chromium (authorization code + PKCE S256), then shows the token, a refresh and the logout URL.
// Screenshots go to $TW_ARTIFACTS; their paths are printed.
//
// Environment as tests/browser/e2e.mjs: TW_KC_ENV, TW_APP_DIR, TW_BROWSER_TOOLS, TW_ARTIFACTS,
// TW_SPA_PORT.
import { join } from 'node:path';
import { env, KC, ORIGIN, artifacts, serveSpa, launchChromium, waitStatus } from './spa.mjs';

// The SPA: the package README's quickstart, pointed at the bundled Keycloak. Its API call goes
// to a stand-in that greets whoever the token names.
const server = await serveSpa(
  '<div style="font: 16px sans-serif; margin: 2em"><h1>tokenward demo SPA</h1><button id="login">Log in</button>' +
    '<p id="status">loading</p><pre id="out"></pre></div>',
  (url, req, send) => {
    if (url.pathname !== '/api/me') return undefined;
    const claims = JSON.parse(Buffer.from((req.headers.authorization ?? '..').split('.')[1] ?? '', 'base64url') || '{}');
    return send(200, 'application/json', JSON.stringify({ preferred_username: claims.preferred_username }));
  },
);

const chromium = await launchChromium({ viewport: { width: 900, height: 640 } });
const { page } = chromium;
const shots = [];
const shot = async (name) => {
  const path = join(artifacts, `demo-${shots.length + 1}-${name}.png`);
  await page.screenshot({ path });
  shots.push(path);
};
const status = (re) => waitStatus(page, re);
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
  await chromium.close();
  server.close();
}
say('screenshots:');
for (const p of shots) say(`  ${p}`);
process.exitCode = failed ? 1 : 0;
