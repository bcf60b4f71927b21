// End to end in Debian's Chromium (playwright-core): a tiny SPA on http://127.0.0.1:8765 whose
// main module is the README quickstart, importing the PACKED package (installed from the
// tarball into $TW_APP_DIR), logs vion-user in through the real Keycloak login page.
//
// Environment: TW_KC_ENV (KC_URL, TW_VION_USER_PASSWORD), TW_APP_DIR (node_modules/tokenward),
// TW_BROWSER_TOOLS (node_modules/playwright-core), TW_ARTIFACTS (screenshots), TW_SPA_PORT.
import { createPublicKey, verify } from 'node:crypto';
import { join } from 'node:path';
import { test, ok, eq, done } from './harness.mjs';
import { env, KC, ORIGIN, artifacts, quickstart, PLACEHOLDER_KC, serveSpa, sendFile, launchChromium, waitStatus as waitFor } from './spa.mjs';

const ISS = `${KC}/realms/vion`;
const PASSWORD = env.TW_VION_USER_PASSWORD;

// ---- the resource server's token check: RS256 against the realm's JWKS, plus iss and exp ----
let jwks = null;
async function verifyToken(token) {
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  jwks ??= await (await fetch(`${ISS}/protocol/openid-connect/certs`)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (header.alg !== 'RS256' || !jwk) throw new Error(`unknown key ${header.kid} / ${header.alg}`);
  if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'))) {
    throw new Error('bad signature');
  }
  if (claims.iss !== ISS) throw new Error(`iss ${claims.iss}`);
  if (claims.exp * 1000 <= Date.now()) throw new Error('expired');
  return claims;
}

// ---- the SPA server ----
const apiCalls = [];
ok(quickstart.includes(PLACEHOLDER_KC), 'the README quickstart names the placeholder Keycloak URL');
const server = await serveSpa('<h1>tokenward test SPA</h1><button id="login">Log in</button><p id="status">loading</p>', async (url, req, send) => {
  if (url.pathname.startsWith('/vite/')) return sendFile(send, join(process.env.TW_APP_DIR, 'dist'), url.pathname.slice('/vite/'.length));
  if (url.pathname === '/api/me') {
    const auth = req.headers.authorization ?? '';
    try {
      const claims = await verifyToken(auth.replace(/^Bearer /, ''));
      apiCalls.push({ ok: true, jti: claims.jti ?? claims.iat });
      return send(200, 'application/json', JSON.stringify({ sub: claims.sub, preferred_username: claims.preferred_username }));
    } catch (e) {
      apiCalls.push({ ok: false, why: e.message });
      return send(401, 'application/json', JSON.stringify({ error: 'invalid_token', error_description: e.message }));
    }
  }
});

// ---- Chromium: Debian's, headless, fresh profile, nothing leaves loopback ----
const chromium = await launchChromium();
const { context, page } = chromium;
const consoleLines = [];
context.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
const outside = [];
context.on('request', (r) => {
  const u = new URL(r.url());
  if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !u.protocol.startsWith('data')) outside.push(r.url());
});
const status = (p = page) => p.locator('#status').textContent();
const waitStatus = (re, p = page) => waitFor(p, re);

// The page's client, built the same way as the quickstart's (page.evaluate runs in the page).
const CFG = { url: KC, realm: 'vion', clientId: 'vion-spa', redirectUri: `${ORIGIN}/callback` };
const inPage = (p, fn, arg) => p.evaluate(async ([src, cfg, arg]) => {
  const tw = await import('tokenward');
  const c = new tw.Client(cfg);
  // eslint-disable-next-line no-new-func
  return new Function('tw', 'c', 'arg', `return (${src})(tw, c, arg)`)(tw, c, arg);
}, [fn.toString(), CFG, arg]);

test('the SPA loads the packed package and asks for a login', async () => {
  await page.goto(`${ORIGIN}/`);
  await waitStatus(/Please log in/);
});

test('login through the real Keycloak page, callback, token, resource call', async () => {
  await Promise.all([page.waitForURL(`${KC}/realms/vion/protocol/openid-connect/auth?**`), page.click('#login')]);
  const authUrl = new URL(page.url());
  eq(authUrl.searchParams.get('code_challenge_method'), 'S256');
  eq(authUrl.searchParams.get('client_id'), 'vion-spa');
  await page.waitForSelector('#username');
  await page.screenshot({ path: join(artifacts, 'login-page.png') });
  await page.fill('#username', 'vion-user');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(`${ORIGIN}/callback**`), page.click('#kc-login')]);
  await waitStatus(/Hello vion-user/);
  await page.screenshot({ path: join(artifacts, 'after-login.png') });
  const here = new URL(page.url());
  eq(here.pathname, '/callback');
  for (const p of ['code', 'state', 'session_state', 'iss']) ok(!here.searchParams.has(p), `${p} removed from the address bar: ${page.url()}`);
  ok(apiCalls.at(-1)?.ok, `the resource server accepted the token: ${JSON.stringify(apiCalls.at(-1))}`);
});

test('claims, id token nonce and a stored pending login that is gone', async () => {
  const r = await inPage(page, (tw, c) => ({
    claims: c.claims(), id: c.idTokenClaims(),
    keys: Object.keys(sessionStorage),
  }));
  eq(r.claims.preferred_username, 'vion-user');
  eq(r.claims.iss, ISS);
  eq(r.claims.azp, 'vion-spa');
  ok(r.id.nonce, 'the ID token carries the nonce');
  ok(!r.keys.some((k) => k.endsWith(':pending')), `no pending login left: ${r.keys}`);
});

test("ID tokens are verified: the realm's keys (JWKS) through WebCrypto, the claims by the core", async () => {
  const r = await inPage(page, async (tw, c, cfg) => {
    const gets = [];
    const v = new tw.Client({ ...cfg, fetch: (u, i) => { if (!i?.method) gets.push(u); return fetch(u, i); } });
    // Keycloak answers a refresh with a new ID token: verified before it is stored.
    await v.refresh();
    const key = Object.keys(sessionStorage).find((k) => k.endsWith(':token'));
    const stored = () => JSON.parse(sessionStorage.getItem(key)).i;
    const header = JSON.parse(atob(stored().split('.')[0].replace(/-/g, '+').replace(/_/g, '/')));
    // The same answer with its ID token's signature altered: refused, nothing stored.
    const before = stored();
    const forged = new tw.Client({ ...cfg, fetch: async (u, i) => {
      const res = await fetch(u, i);
      if (i?.method !== 'POST') return res;
      const body = await res.json();
      const [h, p, s] = body.id_token.split('.');
      body.id_token = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
      return new Response(JSON.stringify(body), { status: res.status });
    } });
    const err = await forged.refresh().then(() => null, (e) => ({ code: e.code, message: e.message }));
    return { id: v.idTokenClaims(), gets, jwksUri: v.provider.jwks_uri, alg: header.alg, kid: header.kid, err, kept: stored() === before };
  }, CFG);
  console.log(`  ID token verified: ${r.alg} key ${r.kid} from ${r.jwksUri}; claims iss=${r.id.iss} aud=${r.id.aud} azp=${r.id.azp} sub=${r.id.sub} preferred_username=${r.id.preferred_username} exp-iat=${r.id.exp - r.id.iat} s`);
  eq(r.jwksUri, `${ISS}/protocol/openid-connect/certs`);
  eq(JSON.stringify(r.gets), JSON.stringify([r.jwksUri]), 'one JWKS fetch');
  eq(r.id.iss, ISS);
  eq(r.id.azp, 'vion-spa');
  eq(r.id.preferred_username, 'vion-user');
  eq(r.err?.code, 'invalid_token', `the altered signature: ${JSON.stringify(r.err)}`);
  ok(/signature does not verify/.test(r.err.message), r.err.message);
  ok(r.kept, 'the refused token was not stored');
});

test('forced refresh: a new token from the refresh token, accepted by the resource server', async () => {
  const r = await inPage(page, async (tw, c) => {
    const before = await c.accessToken();
    const after = await c.refresh();
    const again = await c.accessToken();
    const res = await fetch('/api/me', { headers: { Authorization: `Bearer ${after}` } });
    return { changed: before !== after, same: after === again, status: res.status, body: await res.json() };
  });
  ok(r.changed, 'the refresh gave a new access token');
  ok(r.same, 'the fresh token is then served from storage');
  eq(r.status, 200);
  eq(r.body.preferred_username, 'vion-user');
});

test('an API 401 seen by three requests at once: one refresh at Keycloak, then the API accepts', async () => {
  const r = await inPage(page, async (tw, c, cfg) => {
    let posts = 0;
    const counting = new tw.Client({ ...cfg, fetch: (u, i) => { if (i?.method === 'POST') posts++; return fetch(u, i); } });
    const refused = await counting.accessToken();
    const got = await Promise.all([1, 2, 3].map(() => counting.accessTokenAfterRejection(refused)));
    const late = await counting.accessTokenAfterRejection(refused);
    const res = await fetch('/api/me', { headers: { Authorization: `Bearer ${got[0]}` } });
    return { posts, same: got.every((t) => t === got[0]), renewed: got[0] !== refused, late: late === got[0], status: res.status };
  }, CFG);
  eq(r.posts, 1, 'one token request for three refusals and a late one');
  ok(r.same && r.renewed && r.late, 'every caller gets the one new token');
  eq(r.status, 200);
});

test('near expiry the still-valid token is returned and renewed in the background; expired waits for one refresh', async () => {
  const r = await inPage(page, async (tw, c, cfg) => {
    const key = Object.keys(sessionStorage).find((k) => k.endsWith(':token'));
    const bump = (f) => { const t = JSON.parse(sessionStorage.getItem(key)); Object.assign(t, f); sessionStorage.setItem(key, JSON.stringify(t)); };
    let posts = 0;
    const counting = new tw.Client({ ...cfg, fetch: (u, i) => { if (i?.method === 'POST') posts++; return fetch(u, i); } });
    const t0 = await counting.accessToken();
    bump({ ra: Date.now() - 1 });
    const t1 = await counting.accessToken();
    await new Promise((res) => setTimeout(res, 1500));
    const t2 = await counting.accessToken();
    const early = { kept: t0 === t1, renewed: t2 !== t1, posts };
    bump({ ra: 0, ea: 0 });
    posts = 0;
    const all = await Promise.all([1, 2, 3, 4].map(() => counting.accessToken()));
    return { early, waited: { posts, distinct: new Set(all).size, renewed: all[0] !== t2 } };
  }, CFG);
  ok(r.early.kept, 'the still-valid token is returned at once');
  ok(r.early.renewed, 'and renewed in the background');
  eq(r.early.posts, 1);
  eq(r.waited.posts, 1, 'four callers, one refresh');
  eq(r.waited.distinct, 1);
  ok(r.waited.renewed);
});

test('two tabs sharing localStorage: one refresh across tabs (Web Locks)', async () => {
  const b = await context.newPage();
  await b.goto(`${ORIGIN}/`);
  // Share tab A's (expired) token with tab B through localStorage.
  await inPage(page, () => {
    const key = Object.keys(sessionStorage).find((k) => k.endsWith(':token'));
    const t = JSON.parse(sessionStorage.getItem(key));
    localStorage.setItem(key, JSON.stringify({ ...t, ra: 0, ea: 0 }));
  });
  const at = Date.now() + 500;
  const race = (p) => inPage(p, async (tw, c, [cfg, at]) => {
    let posts = 0;
    const shared = new tw.Client({ ...cfg, storage: localStorage, fetch: (u, i) => { if (i?.method === 'POST') posts++; return fetch(u, i); } });
    while (Date.now() < at) await new Promise((r) => setTimeout(r, 1));
    const token = await shared.accessToken();
    return { posts, token, locks: !!navigator.locks };
  }, [CFG, at]);
  const [ra, rb] = await Promise.all([race(page), race(b)]);
  await b.close();
  await page.evaluate(() => localStorage.clear());
  ok(ra.locks && rb.locks, 'Chromium has Web Locks');
  eq(ra.posts + rb.posts, 1, 'one refresh for both tabs');
  eq(ra.token, rb.token, 'both tabs got the same new token');
});

test('logout URL with id_token_hint ends the Keycloak session without a prompt', async () => {
  const r = await inPage(page, (tw, c, origin) => ({
    url: c.logoutUrl({ postLogoutRedirectUri: `${origin}/callback` }),
    id: JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage).find((k) => k.endsWith(':token')))).i,
  }), ORIGIN);
  const u = new URL(r.url);
  eq(u.origin + u.pathname, `${ISS}/protocol/openid-connect/logout`);
  eq(u.searchParams.get('id_token_hint'), r.id);
  eq(u.searchParams.get('client_id'), 'vion-spa');
  await page.goto(r.url);
  await page.waitForURL(`${ORIGIN}/callback**`);
  // The session is over: Keycloak refuses the refresh token (invalid_grant), and the core's
  // renewal policy answers a user's session with login_required (never client credentials).
  const e = await inPage(page, (tw, c) => c.refresh().then(() => null, (e) => ({ code: e.code, message: e.message })));
  eq(e?.code, 'login_required');
  ok(/refused the refresh token/.test(e?.message), e?.message);
});

// ---- negative callbacks: each a clear error with its code, and nothing stored ----
async function freshTab() {
  const p = await context.newPage();
  await p.goto(`${ORIGIN}/`);
  await waitStatus(/Please log in/, p);
  return p;
}

async function refusedCallback(makeUrl) {
  const p = await freshTab();
  const r = await inPage(p, async (tw, c, [src, iss, origin]) => {
    const url = new URL(c.authorizationUrl());
    const state = url.searchParams.get('state');
    const pending = JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage).find((k) => k.endsWith(':pending'))));
    const cb = new Function('state', 'iss', 'origin', `return ${src}`)(state, iss, origin);
    try {
      await c.handleCallback(cb);
      return { ok: true };
    } catch (e) {
      return {
        isError: e instanceof Error, name: e.name, code: e.code, error: e.error, status: e.status, message: e.message,
        leaks: e.message.includes(pending.code_verifier), stored: Object.keys(sessionStorage), loggedIn: c.loggedIn,
      };
    }
  }, [makeUrl, ISS, ORIGIN]);
  await p.close();
  ok(!r.ok, 'the callback was refused');
  ok(r.isError && r.name === 'TokenwardError', 'a TokenwardError');
  eq(r.stored.length, 0, `nothing stored: ${r.stored}`);
  ok(!r.loggedIn && !r.leaks, 'no token, verifier not in the message');
  return r;
}

test('negative: tampered state', async () => {
  const r = await refusedCallback('`${origin}/callback?state=${state}x&code=abc&iss=${encodeURIComponent(iss)}`');
  eq(r.code, 'state_mismatch');
  ok(/state/.test(r.message), r.message);
});

test('negative: error=access_denied', async () => {
  const r = await refusedCallback('`${origin}/callback?error=access_denied&error_description=The+user+declined&state=${state}&iss=${encodeURIComponent(iss)}`');
  eq(r.code, 'oauth');
  eq(r.error, 'access_denied');
  ok(/access_denied/.test(r.message) && /declined/.test(r.message), r.message);
});

test('negative: token endpoint answers 400 (Keycloak, unknown code)', async () => {
  const r = await refusedCallback('`${origin}/callback?state=${state}&code=not-a-code&iss=${encodeURIComponent(iss)}`');
  eq(r.code, 'oauth');
  eq(r.status, 400);
  eq(r.error, 'invalid_grant');
  ok(/HTTP 400/.test(r.message), r.message);
});

test('negative: wrong iss', async () => {
  const r = await refusedCallback('`${origin}/callback?state=${state}&code=abc&iss=${encodeURIComponent(iss + "x")}`');
  eq(r.code, 'issuer_mismatch');
});

test('negative: a callback in a tab that has no stored verifier', async () => {
  // Tab A starts a login; its callback URL is opened in tab B, which never started one.
  const a = await freshTab();
  const authUrl = await inPage(a, (tw, c) => c.authorizationUrl());
  const state = new URL(authUrl).searchParams.get('state');
  const callback = `${ORIGIN}/callback?state=${state}&code=abc&iss=${encodeURIComponent(ISS)}`;
  const b = await context.newPage();
  await b.goto(callback);
  // The quickstart page treats `login_required` as "show the login button".
  await waitStatus(/Please log in/, b);
  eq(await b.evaluate(() => sessionStorage.length), 0, 'nothing stored in tab B');
  ok(!new URL(b.url()).searchParams.has('code'), 'the code is removed from the address bar anyway');
  // What the page got, asked directly: a clear error with its code.
  const r = await inPage(b, async (tw, c, cb) => {
    try {
      await c.handleCallback(cb);
      return { ok: true };
    } catch (e) {
      return { code: e.code, message: e.message, stored: sessionStorage.length };
    }
  }, callback);
  eq(r.code, 'login_required');
  ok(/no pending login/.test(r.message) && /call login\(\) again/.test(r.message), r.message);
  eq(r.stored, 0);
  await a.close();
  await b.close();
});

test('a Vite production build of an app importing the package runs', async () => {
  const p = await context.newPage();
  await p.goto(`${ORIGIN}/vite/`);
  await p.waitForFunction(() => document.querySelector('#out')?.textContent !== 'loading', null, { timeout: 10000 });
  eq(await p.locator('#out').textContent(), '{"ok":true}');
  await p.close();
});

test('nothing left loopback', () => {
  eq(outside.length, 0, `requests outside loopback: ${outside.join(', ')}`);
});

const failed = await done('e2e: ');
if (failed) console.log(`browser console:\n  ${consoleLines.join('\n  ')}`);
await chromium.close();
server.close();
process.exitCode = failed ? 1 : 0;
