// Unit tests of the built package (wasm/pkg or $TW_WASM_PKG) in node: PKCE helpers and the
// Client against a scripted fetch, with a memory storage. Usage: node unit.mjs [PKG_DIR]
import { readdirSync, readFileSync } from 'node:fs';
import { generateKeyPairSync, sign } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { test, ok, eq, rejects, done } from './harness.mjs';

const pkg = process.argv[2] ?? new URL('../../wasm/pkg', import.meta.url).pathname;
// node's fetch cannot read file: URLs, so hand the glue the module's bytes before index.js loads.
const bindings = await import(pathToFileURL(`${pkg}/tokenward_wasm.js`));
const wasm = bindings.initSync({ module: readFileSync(`${pkg}/tokenward_wasm_bg.wasm`) });
const tw = await import(pathToFileURL(`${pkg}/index.js`));
const { Client, TokenwardError, codeChallenge, createVerifier, createState, createNonce, pkcePair } = tw;

const KC = 'http://127.0.0.1:9';
const ISS = `${KC}/realms/vion`;
const TOKEN_URL = `${ISS}/protocol/openid-connect/token`;
const REDIRECT = 'http://127.0.0.1:8765/callback';
const b64u = (s) => Buffer.from(s).toString('base64url');
const jwt = (claims) => `${b64u('{"alg":"RS256","typ":"JWT"}')}.${b64u(JSON.stringify(claims))}.c2ln`;
const now = () => Math.floor(Date.now() / 1000);

// The realm's signing keys, made here (node's OpenSSL signs, the package verifies with
// WebCrypto), served as its JWKS at JWKS_URL by every scripted fetch.
const JWKS_URL = `${ISS}/protocol/openid-connect/certs`;
const EC = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const RSA = generateKeyPairSync('rsa', { modulusLength: 2048 });
const JWKS = {
  keys: [
    { ...RSA.publicKey.export({ format: 'jwk' }), kid: 'enc', use: 'enc', alg: 'RSA-OAEP' },
    { ...RSA.publicKey.export({ format: 'jwk' }), kid: 'rs', use: 'sig', alg: 'RS256' },
    { ...EC.publicKey.export({ format: 'jwk' }), kid: 'ec', use: 'sig', alg: 'ES256' },
  ],
};
// A JWS of `claims`: ES256 by key `ec` unless the header says otherwise (RS256 signs with the
// RSA key; any other alg gets a junk signature).
function signed(claims, header = {}, ec = EC.privateKey) {
  const h = { alg: 'ES256', kid: 'ec', typ: 'JWT', ...header };
  const input = `${b64u(JSON.stringify(h))}.${b64u(JSON.stringify(claims))}`;
  const sig = h.alg === 'ES256' ? sign('sha256', Buffer.from(input), { key: ec, dsaEncoding: 'ieee-p1363' })
    : h.alg === 'RS256' ? sign('sha256', Buffer.from(input), RSA.privateKey) : Buffer.from('sig');
  return `${input}.${sig.toString('base64url')}`;
}
const idClaims = (extra = {}) => ({ iat: now(), exp: now() + 300, iss: ISS, aud: 'vion-spa', sub: 'u1', azp: 'vion-spa', ...extra });

class MemoryStorage {
  m = new Map();
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
}

// A scripted token endpoint: each call takes the next answer ([status, body] or a thrown error).
function scriptedFetch(answers) {
  const calls = [];
  const f = async (url, init) => {
    await new Promise((r) => setTimeout(r, 5));
    if (url === JWKS_URL || url === f.jwksUrl) {
      f.jwks.push(url);
      return new Response(JSON.stringify(f.keys), { status: 200, headers: { 'cache-control': 'no-cache' } });
    }
    calls.push({ url, init, form: Object.fromEntries(new URLSearchParams(init.body)) });
    const a = answers.shift();
    if (!a) throw new Error('no scripted answer left');
    if (a instanceof Error) throw a;
    if (a[0] === 'timeout') throw new DOMException('The operation timed out.', 'TimeoutError');
    return new Response(a[1], { status: a[0], headers: { 'content-type': 'application/json' } });
  };
  f.calls = calls;
  f.answers = answers;
  // The key set served, and its fetches.
  f.keys = JWKS;
  f.jwks = [];
  return f;
}

function tokenBody({ lifetime = 300, nonce, rt = 'rt-1', access = 'a', id } = {}) {
  const iat = now();
  const body = {
    access_token: jwt({ iat, exp: iat + lifetime, iss: ISS, sub: 'u1', preferred_username: 'vion-user', tag: access }),
    expires_in: lifetime,
    refresh_expires_in: 1800,
    token_type: 'Bearer',
    id_token: id ?? signed(idClaims({ iat, exp: iat + lifetime, nonce })),
    'not-before-policy': 0,
    session_state: 'sid',
    scope: 'openid profile email',
  };
  if (rt) body.refresh_token = rt;
  return JSON.stringify(body);
}

function client(fetch, storage = new MemoryStorage(), extra = {}) {
  return new Client({ url: KC, realm: 'vion', clientId: 'vion-spa', redirectUri: REDIRECT, storage, fetch, ...extra });
}

// Starts a login and returns what the callback needs.
function started(c, storage) {
  const url = new URL(c.authorizationUrl());
  const key = [...storage.m.keys()].find((k) => k.endsWith(':pending'));
  return { url, key, pending: JSON.parse(storage.getItem(key)), state: url.searchParams.get('state') };
}

async function loggedIn(answers = [], extra = {}) {
  const storage = new MemoryStorage();
  const c = client(scriptedFetch([]), storage, extra);
  const s = started(c, storage);
  const f = scriptedFetch([[200, tokenBody({ nonce: s.pending.nonce })], ...answers]);
  const c2 = client(f, storage, extra);
  await c2.handleCallback(`${REDIRECT}?state=${s.state}&session_state=x&iss=${encodeURIComponent(ISS)}&code=the-code`);
  f.calls.length = 0;
  const tokenKey = [...storage.m.keys()].find((k) => k.endsWith(':token'));
  return { c: c2, f, storage, tokenKey, s };
}

const shift = (storage, key, fields) => {
  const t = JSON.parse(storage.getItem(key));
  Object.assign(t, fields(t));
  storage.setItem(key, JSON.stringify(t));
};

// The shared vectors (tests/vectors/README.md): the same cases the Rust, C and Python suites run.
const vectors = (name) => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8'));
const PKCE = vectors('pkce.json');
const CALLBACKS = vectors('callbacks.json');
const TOKENS = vectors('token_responses.json');
const JWTS = vectors('jwt_claims.json');

for (const v of PKCE.valid) {
  test(`vectors/pkce.json ${v.name}: challenge`, () => eq(codeChallenge(v.verifier), v.challenge));
}

for (const v of PKCE.invalid) {
  test(`vectors/pkce.json ${v.name}: refused`, async () => {
    const e = await rejects(() => codeChallenge(v.verifier), v.error);
    ok(e instanceof TokenwardError && e.name === 'TokenwardError');
    ok(/43 to 128/.test(e.message), e.message);
  });
}

test('verifier, state and nonce are 43 unreserved characters and differ', () => {
  const seen = new Set();
  for (const f of [createVerifier, createState, createNonce, createVerifier]) {
    const v = f();
    ok(/^[A-Za-z0-9_-]{43}$/.test(v), v);
    seen.add(v);
  }
  eq(seen.size, 4);
  const p = pkcePair();
  eq(p.challenge, codeChallenge(p.verifier));
});

test('authorization URL carries PKCE S256, state, nonce, scope; pending login stored', () => {
  const storage = new MemoryStorage();
  const c = client(scriptedFetch([]), storage);
  const url = new URL(c.authorizationUrl({ params: { prompt: 'login', ui_locales: 'de fr' } }));
  eq(url.origin + url.pathname, `${ISS}/protocol/openid-connect/auth`);
  const q = url.searchParams;
  eq(q.get('response_type'), 'code');
  eq(q.get('client_id'), 'vion-spa');
  eq(q.get('redirect_uri'), REDIRECT);
  eq(q.get('scope'), 'openid');
  eq(q.get('code_challenge_method'), 'S256');
  eq(q.get('prompt'), 'login');
  eq(q.get('ui_locales'), 'de fr');
  const pending = JSON.parse([...storage.m.values()][0]);
  eq(pending.state, q.get('state'));
  eq(pending.nonce, q.get('nonce'));
  eq(codeChallenge(pending.code_verifier), q.get('code_challenge'));
  ok(!url.href.includes(pending.code_verifier), 'verifier not in the URL');
});

test('reserved extra parameters and plain-http Keycloak are refused', async () => {
  const c = client(scriptedFetch([]));
  await rejects(() => c.authorizationUrl({ params: { state: 'mine' } }), 'config');
  await rejects(() => new Client({ url: 'http://sso.example.com', realm: 'vion', clientId: 'x', redirectUri: REDIRECT, storage: new MemoryStorage() }), 'insecure_url');
});

test('callback: code exchange posts the verifier, stores the token, one-shot pending', async () => {
  const storage = new MemoryStorage();
  const c = client(scriptedFetch([]), storage);
  const s = started(c, storage);
  const f = scriptedFetch([[200, tokenBody({ nonce: s.pending.nonce })]]);
  const c2 = client(f, storage);
  const claims = await c2.handleCallback(`${REDIRECT}?state=${s.state}&iss=${encodeURIComponent(ISS)}&code=abc`);
  eq(claims.preferred_username, 'vion-user');
  eq(f.calls.length, 1);
  eq(f.calls[0].url, TOKEN_URL);
  eq(f.calls[0].init.method, 'POST');
  eq(f.calls[0].init.headers['Content-Type'], 'application/x-www-form-urlencoded');
  const form = f.calls[0].form;
  eq(form.grant_type, 'authorization_code');
  eq(form.code, 'abc');
  eq(form.code_verifier, s.pending.code_verifier);
  eq(form.redirect_uri, REDIRECT);
  eq(form.client_id, 'vion-spa');
  eq(storage.getItem(s.key), null, 'pending removed');
  ok(c2.loggedIn);
  eq(c2.idTokenClaims().nonce, s.pending.nonce);
  const a = await c2.accessToken();
  eq(a.split('.').length, 3, 'a JWT');
  eq(await c2.accessToken(), a, 'stable');
  eq(f.calls.length, 1, 'fresh token: no request');
  // The same callback again: the pending login is gone.
  await rejects(() => c2.handleCallback(`${REDIRECT}?state=${s.state}&code=abc`), 'login_required');
});

// ---- ID tokens verified (issue 16): the core's rules, WebCrypto's arithmetic ----

function fresh(extra) {
  const storage = new MemoryStorage();
  const f = scriptedFetch([]);
  return { storage, f, c: client(f, storage, extra) };
}

// Logs in on `c` with a code exchange answered by the ID token `id(nonce)`: the error, or null.
async function loginWith(c, storage, f, id) {
  const s = started(c, storage);
  f.answers.push([200, tokenBody({ id: id(s.pending.nonce) })]);
  try {
    await c.handleCallback(`${REDIRECT}?state=${s.state}&code=abc`);
    return null;
  } catch (e) {
    return e;
  }
}

test('ID token: ES256 and RS256 verify with the JWKS (fetched once); idTokenClaims() has the verified claims', async () => {
  const { c, f, storage } = fresh();
  eq(c.provider.jwks_uri, JWKS_URL);
  eq(await loginWith(c, storage, f, (nonce) => signed(idClaims({ nonce, name: 'Vion User' }))), null);
  eq(c.idTokenClaims().name, 'Vion User');
  eq(await loginWith(c, storage, f, (nonce) => signed(idClaims({ nonce }), { alg: 'RS256', kid: 'rs' })), null);
  eq(f.jwks.length, 1, 'the key set is fetched once per page');
  // A refresh's ID token is verified too (without a nonce).
  f.answers.push([200, tokenBody({ access: 'r' })]);
  await c.refresh();
  eq(c.claims().tag, 'r');
  eq(f.jwks.length, 1);
});

const REFUSED = [
  ['a bad signature', (n) => signed(idClaims({ nonce: n })).replace(/[^.]{4}$/, 'AAAA'), /signature does not verify/],
  ['alg none', (n) => signed(idClaims({ nonce: n }), { alg: 'none' }).replace(/[^.]*$/, ''), /unsigned/],
  ['HS256', (n) => signed(idClaims({ nonce: n }), { alg: 'HS256' }), /shared secret/],
  ['another issuer', (n) => signed(idClaims({ nonce: n, iss: 'https://evil.example/realms/vion' })), /issuer/],
  ['another audience', (n) => signed(idClaims({ nonce: n, aud: 'other', azp: 'other' })), /not for this client/],
  ["another login's nonce", () => signed(idClaims({ nonce: 'not-this-login' })), /nonce/],
  ['an expired token', (n) => signed(idClaims({ nonce: n, iat: now() - 600, exp: now() - 120 })), /expired/],
  ['an unknown key', (n) => signed(idClaims({ nonce: n }), { kid: 'gone' }), /no ES256 key `gone`/],
  ['an RSA key for an ES256 token', (n) => signed(idClaims({ nonce: n }), { kid: 'rs' }), /no ES256 key `rs`/],
];
for (const [what, id, says] of REFUSED) {
  test(`ID token refused: ${what} is invalid_token, nothing stored`, async () => {
    const { c, f, storage } = fresh();
    const e = await loginWith(c, storage, f, id);
    ok(e instanceof TokenwardError, `a TokenwardError: ${e}`);
    eq(e.code, 'invalid_token', e.message);
    ok(says.test(e.message), e.message);
    eq(storage.m.size, 0, 'nothing stored');
    ok(!c.loggedIn && c.idTokenClaims() === null);
  });
}

test('ID token: a browser whose WebCrypto cannot check it says so (https or localhost), nothing stored', async () => {
  const { c, f, storage } = fresh();
  const subtle = globalThis.crypto.subtle;
  subtle.importKey = () => Promise.reject(new DOMException('unsupported', 'NotSupportedError'));
  try {
    const e = await loginWith(c, storage, f, (nonce) => signed(idClaims({ nonce })));
    eq(e?.code, 'invalid_token');
    ok(/WebCrypto/.test(e.message) && /https or from localhost/.test(e.message), e.message);
    eq(storage.m.size, 0);
  } finally {
    delete subtle.importKey;
  }
  eq(await loginWith(c, storage, f, (nonce) => signed(idClaims({ nonce }))), null, 'WebCrypto back: verifies');
});

test('ID token: a key set that is not one is invalid_token, saying to check the jwks_uri', async () => {
  const { c, f, storage } = fresh();
  f.keys = { keys: 'none' };
  const e = await loginWith(c, storage, f, (nonce) => signed(idClaims({ nonce })));
  eq(e?.code, 'invalid_token');
  ok(/jwks_uri/.test(e.message), e.message);
  eq(storage.m.size, 0);
});

test("ID token: a rotated key is fetched at most once per 10 s (the core's policy), then verifies", async () => {
  let skew = 0;
  const { c, f, storage } = fresh({ now: () => Date.now() + skew });
  eq(await loginWith(c, storage, f, (nonce) => signed(idClaims({ nonce }))), null);
  const next = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  f.keys = { keys: [...JWKS.keys, { ...next.publicKey.export({ format: 'jwk' }), kid: 'ec2' }] };
  const rotated = (nonce) => signed(idClaims({ nonce }), { kid: 'ec2' }, next.privateKey);
  eq((await loginWith(c, storage, f, rotated))?.code, 'invalid_token');
  eq(f.jwks.length, 1, 'within 10 s of the last fetch: no refetch');
  skew = 11_000;
  eq(await loginWith(c, storage, f, rotated), null);
  eq(f.jwks.length, 2, 'one refetch for the new kid');
  const forged = (nonce) => signed(idClaims({ nonce }), { kid: 'forged' });
  for (let i = 0; i < 5; i++) eq((await loginWith(c, storage, f, forged))?.code, 'invalid_token');
  eq(f.jwks.length, 2, 'a flood of unknown kids: no refetch within 10 s');
});

// A client of the vectors' realm whose storage holds the vectors' pending login. Its provider
// is discovered without a jwks_uri: the vectors' ID tokens are signed by no key, and a
// provider that publishes none has its ID tokens kept unverified (and idTokenClaims() null).
async function vectorClient(answers, pending = CALLBACKS.pending) {
  const storage = new MemoryStorage();
  const issuer = 'https://auth.test.ecocoa.ch/realms/vion';
  const oidc = `${issuer}/protocol/openid-connect`;
  const doc = { issuer, authorization_endpoint: `${oidc}/auth`, token_endpoint: `${oidc}/token` };
  const f = scriptedFetch([[200, JSON.stringify(doc)], ...answers]);
  const c = await Client.discover({ issuer, clientId: 'vion-spa', redirectUri: pending.redirect_uri, storage, fetch: f });
  f.calls.length = 0;
  const { key } = started(c, storage);
  storage.setItem(key, JSON.stringify(pending));
  return { c, f, storage };
}
const EXCHANGE = TOKENS.cases.find((v) => v.name === 'keycloak-code-exchange');
const GOOD_CALLBACK = CALLBACKS.cases.find((v) => v.name === 'keycloak-good');

// An error from the core matches a vector's expected error object.
function sameError(e, want) {
  eq(e.code, want.code);
  if ('oauth_error' in want) eq(e.error, want.oauth_error);
  if ('description' in want) eq(e.description, want.description);
  if ('status' in want) eq(e.status, want.status);
  for (const w of want.message_contains ?? []) ok(e.message.includes(w), `message says ${w}: ${e.message}`);
}

for (const v of CALLBACKS.cases) {
  test(`vectors/callbacks.json ${v.name}`, async () => {
    const pending = { ...CALLBACKS.pending, iss_required: v.iss_required ?? CALLBACKS.pending.iss_required };
    const { c, f, storage } = await vectorClient([[200, EXCHANGE.body]], pending);
    if (v.expect.code !== undefined) {
      await c.handleCallback(v.url);
      eq(f.calls.length, 1);
      eq(f.calls[0].form.code, v.expect.code, 'the code exchanged');
      eq(f.calls[0].form.code_verifier, pending.code_verifier);
      ok(c.loggedIn);
    } else {
      const e = await rejects(() => c.handleCallback(v.url), v.expect.error.code);
      sameError(e, v.expect.error);
      eq(f.calls.length, 0, 'no request');
      eq(storage.m.size, 0, 'storage empty');
      ok(!e.message.includes(pending.code_verifier));
    }
  });
}

for (const v of TOKENS.cases) {
  test(`vectors/token_responses.json ${v.name}`, async () => {
    const { c, f, storage } = await vectorClient([[v.status, v.body]]);
    if (v.expect.token) {
      const want = v.expect.token;
      await c.handleCallback(GOOD_CALLBACK.url);
      eq(f.calls.length, 1);
      eq(await c.accessToken(), want.access_token);
      const t = JSON.parse(storage.getItem([...storage.m.keys()].find((k) => k.endsWith(':token'))));
      eq(t.r || null, want.refresh_token, 'refresh token');
      eq(t.i || null, want.id_token, 'ID token');
      eq(t.ea - t.t, want.expires_in * 1000, 'expiry: expires_in from the request');
    } else {
      const e = await rejects(() => c.handleCallback(GOOD_CALLBACK.url), v.expect.error.code);
      sameError(e, v.expect.error);
      eq(storage.m.size, 0, 'nothing stored');
    }
  });
}

test('callback in a tab without a stored login is login_required, saying why', async () => {
  const storage = new MemoryStorage();
  const f = scriptedFetch([]);
  const c = client(f, storage);
  const e = await rejects(() => c.handleCallback(`${REDIRECT}?state=abc&code=abc`), 'login_required');
  ok(/no pending login/.test(e.message), e.message);
  eq(storage.m.size, 0);
  eq(f.calls.length, 0);
});

test('a stored login that was tampered with is a config error', async () => {
  const storage = new MemoryStorage();
  const c = client(scriptedFetch([]), storage);
  const s = started(c, storage);
  storage.setItem(s.key, JSON.stringify({ ...s.pending, code_verifier: 'short' }));
  await rejects(() => c.handleCallback(`${REDIRECT}?state=${s.state}&code=abc`), 'config');
  storage.setItem(s.key, '{"state":1}');
  await rejects(() => c.handleCallback(`${REDIRECT}?state=${s.state}&code=abc`), 'config');
});

test('decodeJwt reads claims and answers null for anything else', () => {
  eq(tw.decodeJwt(jwt({ sub: 'ü', n: 1 })).sub, 'ü');
  for (const bad of ['a.b.c', null, 42]) eq(tw.decodeJwt(bad), null);
});

for (const v of JWTS.cases) {
  test(`vectors/jwt_claims.json ${v.name}: decodeJwt`, () => {
    const claims = tw.decodeJwt(v.jwt);
    eq(JSON.stringify(claims), JSON.stringify(v.claims));
    eq(claims.exp === undefined ? null : Math.trunc(claims.exp), v.expect.exp);
    eq(claims.iat === undefined ? null : Math.trunc(claims.iat), v.expect.iat);
    eq(JSON.stringify(claims.realm_access?.roles ?? []), JSON.stringify(v.expect.realm_roles));
  });
}

test('vectors/jwt_claims.json malformed: decodeJwt answers null', () => {
  for (const v of JWTS.malformed) eq(tw.decodeJwt(v.jwt), null, v.name);
});

test('network failure, timeout, a wrong nonce and an oversized body are typed', async () => {
  for (const [answer, code] of [
    [new TypeError('Failed to fetch'), 'transport'],
    [['timeout'], 'timeout'],
    [[200, tokenBody({ nonce: 'not-the-nonce' })], 'invalid_token'],
    [[200, `{"access_token":"${'a'.repeat(1100000)}"}`], 'invalid_response'],
  ]) {
    const storage = new MemoryStorage();
    const c = client(scriptedFetch([]), storage);
    const s = started(c, storage);
    await rejects(() => client(scriptedFetch([answer]), storage).handleCallback(`${REDIRECT}?state=${s.state}&code=abc`), code);
    eq(storage.m.size, 0);
  }
});

test('expired: concurrent callers share one refresh', async () => {
  const { c, f, storage, tokenKey } = await loggedIn([[200, tokenBody({ access: 'c' })]]);
  shift(storage, tokenKey, () => ({ ra: Date.now() - 2, ea: Date.now() - 1 }));
  const got = await Promise.all([1, 2, 3, 4, 5].map(() => c.accessToken()));
  eq(f.calls.length, 1, 'one request');
  eq(new Set(got).size, 1);
  eq(c.claims().tag, 'c');
});

test('a 401 seen by several requests at once: one renewal, a late one none', async () => {
  const { c, f } = await loggedIn([[200, tokenBody({ rt: 'rt-2', access: 'r' })], [200, tokenBody({ access: 's' })]]);
  const refused = await c.accessToken();
  const got = await Promise.all([1, 2, 3].map(() => c.accessTokenAfterRejection(refused)));
  eq(f.calls.length, 1, 'one request for three refusals');
  ok(got.every((t) => t === got[0]) && got[0] !== refused, 'all get the same new token');
  eq(c.claims().tag, 'r');
  eq(await c.accessTokenAfterRejection(refused), got[0], 'a late refusal of the old token: no request');
  eq(f.calls.length, 1);
  await c.accessTokenAfterRejection(got[0]);
  eq(f.calls.length, 2, 'the current token refused: renewed');
  eq(f.calls[1].form.refresh_token, 'rt-2');
  eq(c.claims().tag, 's');
});

test('plain http off loopback is insecure_url before any request; https is fine', async () => {
  for (const url of ['http://keycloak.example.com', 'http://10.0.0.1:8080', 'http://127.0.0.1.nip.io']) {
    const f = scriptedFetch([]);
    const e = await rejects(() => new Client({ url, realm: 'vion', clientId: 'vion-spa', redirectUri: REDIRECT, storage: new MemoryStorage(), fetch: f }), 'insecure_url', url);
    ok(e.message.includes('https'), e.message);
    eq(f.calls.length, 0);
  }
  const https = new Client({ url: 'https://sso.example.com', realm: 'vion', clientId: 'vion-spa', redirectUri: 'https://app.example.com/cb', storage: new MemoryStorage() });
  ok(https.authorizationUrl().startsWith('https://sso.example.com/realms/vion/protocol/openid-connect/auth?'));
  await rejects(() => client(scriptedFetch([])).authorizationUrl({ redirectUri: 'http://app.example.com/cb' }), 'insecure_url');
});

test('a stored token this client did not write reads as logged out, not a crash', async () => {
  const { c, storage, tokenKey } = await loggedIn();
  for (const junk of ['{not json', '{"r":{"access_token":"x"},"a":"x"}', 'null', '42']) {
    storage.setItem(tokenKey, junk);
    ok(!c.loggedIn && c.claims() === null, junk);
    await rejects(() => c.accessToken(), 'login_required', junk);
  }
});

test('refresh policy option moves the renewal point', async () => {
  const { storage, tokenKey } = await loggedIn([], { refreshPolicy: { fraction: 0.5, maxMarginSeconds: 1000 } });
  const t = JSON.parse(storage.getItem(tokenKey));
  const margin = t.ea - t.ra;
  ok(margin > 140_000 && margin <= 150_000, `margin ${margin}`);
  const d = await loggedIn();
  const t2 = JSON.parse(d.storage.getItem(d.tokenKey));
  eq(t2.ea - t2.ra, 29_900, 'default: 10 % of a 299 s usable lifetime');
});

test('logout URL has id_token_hint, client_id and the redirect', async () => {
  const { c, storage, tokenKey } = await loggedIn();
  const u = new URL(c.logoutUrl({ postLogoutRedirectUri: 'http://127.0.0.1:8765/', state: 's1' }));
  eq(u.origin + u.pathname, `${ISS}/protocol/openid-connect/logout`);
  eq(u.searchParams.get('id_token_hint'), JSON.parse(storage.getItem(tokenKey)).i);
  eq(u.searchParams.get('client_id'), 'vion-spa');
  eq(u.searchParams.get('post_logout_redirect_uri'), 'http://127.0.0.1:8765/');
  eq(u.searchParams.get('state'), 's1');
  c.forget();
  eq(storage.m.size, 0);
  ok(!c.loggedIn && c.claims() === null);
});

test("the module's memory does not grow across calls (its arena starts over after each)", async () => {
  const { c, f } = await loggedIn(Array.from({ length: 300 }, () => [200, tokenBody({ access: 'm' })]));
  const grown = () => wasm.memory.buffer.byteLength;
  for (let i = 0; i < 20; i++) await c.refresh();
  const before = grown();
  for (let i = 0; i < 2000; i++) {
    pkcePair();
    c.authorizationUrl();
    c.logoutUrl();
    try { codeChallenge('short'); } catch { /* a config error, allocated and freed */ }
  }
  for (let i = 0; i < 200; i++) await c.refresh();
  eq(grown(), before, 'memory size');
  eq(f.calls.length, 220);
});

// ---- the .d.ts files against the exports ----

test('index.d.ts declares exactly what index.js exports, and every Client member', () => {
  const dts = readFileSync(`${pkg}/index.d.ts`, 'utf8');
  const declared = [...dts.matchAll(/^export (?:declare )?(?:function|class|const) (\w+)/gm)].map((m) => m[1]).sort();
  eq(JSON.stringify(declared), JSON.stringify(Object.keys(tw).sort()), 'exports');
  const body = dts.slice(dts.indexOf('export class Client {'));
  const members = [...body.slice(0, body.indexOf('\n}')).matchAll(/^ {2}(static )?(?:readonly )?(\w+)[(?:<]/gm)]
    .map((m) => `${m[1] ? 'static ' : ''}${m[2]}`).filter((n) => n !== 'constructor').sort();
  const runtime = [
    ...Object.getOwnPropertyNames(Client.prototype).filter((n) => n !== 'constructor'),
    ...Object.getOwnPropertyNames(Client).filter((n) => !['length', 'name', 'prototype'].includes(n)).map((n) => `static ${n}`),
  ].sort();
  eq(JSON.stringify(members), JSON.stringify(runtime), 'Client members');
  const codes = [...dts.slice(dts.indexOf('export type ErrorCode'), dts.indexOf(';', dts.indexOf('export type ErrorCode'))).matchAll(/'(\w+)'/g)].map((m) => m[1]);
  for (const c of ['state_mismatch', 'login_required', 'invalid_response', 'insecure_url']) ok(codes.includes(c), c);
});

test("the generated tokenward_wasm.d.ts lists the module's exports; the glue uses each and no other", () => {
  const generated = readFileSync(`${pkg}/tokenward_wasm.d.ts`, 'utf8');
  const exported = [...generated.matchAll(/^export function (\w+)\(/gm)].map((m) => m[1]).filter((n) => n !== 'initSync').sort();
  const glue = readFileSync(`${pkg}/index.js`, 'utf8');
  const used = [...new Set([...glue.matchAll(/\bw\.(\w+)/g)].map((m) => m[1]))].sort();
  eq(JSON.stringify(used), JSON.stringify(exported));
  eq(JSON.stringify(Object.keys(bindings).filter((k) => typeof bindings[k] === 'function' && !['default', 'initSync'].includes(k)).sort()), JSON.stringify(exported), 'runtime');
  ok(!exported.includes('tw'), 'no dispatcher');
});

// ---- the provider: Keycloak base + realm, a URL template, or discovery ----

const TEMPLATES = vectors('templates.json');
const DISCOVERY = vectors('discovery.json');

for (const v of TEMPLATES.cases) {
  test(`vectors/templates.json ${v.name}: new Client({ template, values })`, async () => {
    const make = () => new Client({ template: v.template, values: v.values, clientId: 'c', redirectUri: REDIRECT, storage: new MemoryStorage() });
    if (v.expect.error) {
      sameError(await rejects(make, v.expect.error.code), v.expect.error);
    } else {
      const p = make().provider;
      eq(p.issuer, v.expect.issuer);
      eq(p.token_endpoint, v.expect.token_endpoint);
    }
  });
}

for (const v of DISCOVERY.cases) {
  test(`vectors/discovery.json ${v.name}: Client.discover`, async () => {
    const body = v.body ?? JSON.stringify(v.document);
    const calls = [];
    const fetch = async (url) => {
      calls.push(url);
      return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const make = () => Client.discover({ issuer: v.issuer, clientId: 'c', redirectUri: REDIRECT, storage: new MemoryStorage(), fetch });
    if (v.expect.error) {
      sameError(await rejects(make, v.expect.error.code), v.expect.error);
    } else {
      const p = (await make()).provider;
      for (const k of ['issuer', 'token_endpoint', 'authorization_endpoint', 'end_session_endpoint']) {
        eq(p[k] ?? null, v.expect.provider[k] ?? null, k);
      }
    }
    eq(calls[0], `${v.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  });
}

test('a discovered client logs in against the discovered endpoints', async () => {
  const loopback = DISCOVERY.cases.find((v) => v.name === 'loopback-http-dev').document;
  const doc = { ...loopback, authorization_response_iss_parameter_supported: true };
  const storage = new MemoryStorage();
  const answers = [[200, JSON.stringify(doc)]];
  const f = scriptedFetch(answers);
  const c = await Client.discover({ issuer: doc.issuer, clientId: 'vion-spa', redirectUri: REDIRECT, storage, fetch: f });
  const s = started(c, storage);
  eq(s.url.origin + s.url.pathname, doc.authorization_endpoint);
  // The document promises iss on the callback (RFC 9207): a callback without it is refused.
  await rejects(() => c.handleCallback(`${REDIRECT}?state=${s.state}&code=x`), 'issuer_mismatch');
  const s2 = started(c, storage);
  // The ID token is verified with the keys at the document's jwks_uri, for its issuer.
  f.jwksUrl = doc.jwks_uri;
  answers.push([200, tokenBody({ id: signed(idClaims({ nonce: s2.pending.nonce, iss: doc.issuer })) })]);
  await c.handleCallback(`${REDIRECT}?state=${s2.state}&iss=${encodeURIComponent(doc.issuer)}&code=x`);
  eq(f.calls.at(-1).url, doc.token_endpoint);
  ok(c.loggedIn);
  eq(c.idTokenClaims().iss, doc.issuer);
  eq(f.jwks.length, 1);
});

// ---- tests/vectors/cache/*.json: the cache timelines, through the Client ----
//
// The browser client is public (no client secret in a page), so it skips the timelines that
// run client credentials; *-user.json are their user-session counterparts.

const TIMELINE_DIR = new URL('../vectors/cache/', import.meta.url);
const timelines = readdirSync(TIMELINE_DIR).filter((n) => n.endsWith('.json')).sort()
  .map((n) => [n, JSON.parse(readFileSync(new URL(n, TIMELINE_DIR), 'utf8'))]);

// The scripted token endpoint of a timeline: answers in order, the requests they answered.
function timelineFetch() {
  const f = async (url, init) => {
    const form = Object.fromEntries(new URLSearchParams(init.body));
    f.requests.push(form.grant_type === 'refresh_token' ? `refresh_token ${form.refresh_token}` : form.grant_type);
    const a = f.answers.shift();
    if (!a) throw new Error(`a request the timeline did not expect: ${init.body}`);
    if (a.token) {
      const body = { access_token: a.token, token_type: 'Bearer', expires_in: a.expires_in };
      if (a.refresh_token) Object.assign(body, { refresh_token: a.refresh_token, refresh_expires_in: a.refresh_expires_in });
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    const headers = a.retry_after ? { 'retry-after': `${a.retry_after}` } : {};
    return new Response(a.error ? JSON.stringify({ error: a.error }) : 'unavailable', { status: a.status, headers });
  };
  f.answers = [];
  f.requests = [];
  return f;
}

for (const [name, t] of timelines) {
  if (t.steps.some((s) => s.expect.requests.includes('client_credentials'))) continue;
  test(`vectors/cache/${name}`, async () => {
    let clock = 1_700_000_000_000;
    const origin = clock;
    const f = timelineFetch();
    const storage = new MemoryStorage();
    const c = new Client({ url: KC, realm: 'vion', clientId: 'vion-spa', redirectUri: REDIRECT, storage, fetch: f, now: () => clock });
    for (const [i, step] of t.steps.entries()) {
      clock = origin + step.at * 1000;
      const what = `step ${i} (${step.call} at ${step.at} s)`;
      let result;
      try {
        if (step.call === 'login') {
          // A user's login: the real callback and code exchange, whose answer is the step's token.
          const url = new URL(c.authorizationUrl());
          f.answers = [step.token];
          await c.handleCallback(`${REDIRECT}?state=${url.searchParams.get('state')}&code=c`);
          f.requests = [];
          result = await c.accessToken();
        } else {
          f.answers = [...(step.answers ?? [])];
          f.requests = [];
          if (step.call === 'token') result = await c.accessToken();
          else if (step.call === 'rejected') result = await c.accessTokenAfterRejection(step.token);
          else if (step.call === 'refresh') result = await c.refresh();
          else if (step.call === 'clear') result = c.forget() ?? null;
          else throw new Error(`unknown call ${step.call}`);
        }
      } catch (e) {
        if (!(e instanceof TokenwardError)) throw e;
        result = { error: e.code };
      }
      // A renewal started in the background lands before the next step.
      for (let k = 0; k < 50 && f.requests.length < step.expect.requests.length; k++) await new Promise((r) => setTimeout(r, 1));
      await new Promise((r) => setTimeout(r, 5));
      eq(JSON.stringify(f.requests), JSON.stringify(step.expect.requests), `${what}: requests`);
      eq(f.answers.length, 0, `${what}: answers left unused`);
      eq(JSON.stringify(result), JSON.stringify(step.expect.result), `${what}: result`);
    }
  });
}

process.exitCode = (await done('unit: ')) ? 1 : 0;
