// tokenward for the browser. The Rust core (compiled to tokenward_wasm_bg.wasm) makes every
// decision: the provider's endpoints, PKCE, the authorization URL, the state / iss / error=
// checks of the callback, the token requests, checking token answers and error answers, the
// nonce check, the token's deadlines, and when to serve, renew, wait or ask for a login
// (tokenward::cache::state), and for an ID token: which algorithm and key, when to fetch the
// provider's keys, and its claims. This file is the browser's I/O around it: fetch,
// JSON.parse, URL and URLSearchParams (which encode the parameters the core chose), storage,
// the redirect, the address bar, Web Locks and WebCrypto (the signature arithmetic). It
// carries out what the core says.
import init, * as w from './tokenward_wasm.js';

await init({ module_or_path: new URL('./tokenward_wasm_bg.wasm', import.meta.url) });

/** An error from tokenward. `code` is the core's stable code name (`state_mismatch`, ...). */
export class TokenwardError extends Error {
  constructor(e) {
    super(e.message);
    this.name = 'TokenwardError';
    this.code = e.code;
    if (e.error) this.error = e.error;
    if (e.description) this.description = e.description;
    if (e.status) this.status = e.status;
    // What the core needs back when a renewal failed (`failed`): not part of the API.
    core.set(this, e);
  }
}

// The core's own error object behind each TokenwardError.
const core = new WeakMap();
const typed = (e) => (e instanceof TokenwardError ? e : new TokenwardError(e));

// Runs an export. Results cross as JSON text (one string, JSON.parse here); a failure is
// `{thrown: the core's error}`, which becomes a TokenwardError.
const call = (f, ...args) => {
  const r = JSON.parse(f(...args));
  if (r.thrown) throw typed(r.thrown);
  return r;
};

// JSON.parse that answers undefined for anything that is not JSON.
const parse = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

// A URL the core chose: its endpoint with its parameters appended, encoded by URLSearchParams.
const href = ({ endpoint, params }) => {
  const u = new URL(endpoint);
  for (const [k, v] of params) u.searchParams.append(k, v);
  return u.href;
};

// The bytes of a base64url string (empty when it is not one).
const bytes = (s) => {
  try {
    return Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
};

// Part `i` of a JWT as a JSON object, or null.
const part = (jwt, i) => {
  const p = typeof jwt === 'string' ? jwt.split('.') : [];
  const c = p.length === 3 ? parse(new TextDecoder().decode(bytes(p[i]))) : null;
  return c && typeof c === 'object' && !Array.isArray(c) ? c : null;
};

/**
 * The claims of a JWT, decoded but not verified (the resource server verifies), or null for
 * anything that is not a JWT.
 */
export const decodeJwt = (jwt) => part(jwt, 1);

// WebCrypto's parameters for a JWS algorithm the core accepted (RS*, PS*, ES256/384, EdDSA):
// members an algorithm does not use are ignored.
const webAlg = (alg) => {
  const bits = alg.slice(2);
  return alg === 'EdDSA' ? { name: 'Ed25519' } : {
    name: { RS: 'RSASSA-PKCS1-v1_5', PS: 'RSA-PSS', ES: 'ECDSA' }[alg.slice(0, 2)],
    hash: 'SHA-' + bits, saltLength: bits / 8, namedCurve: 'P-' + bits,
  };
};

/** A PKCE code verifier: 43 characters, 256 bits from crypto.getRandomValues. */
export const createVerifier = () => call(w.randomString);
/** A `state` value for an authorization request (256 random bits). */
export const createState = createVerifier;
/** A `nonce` value for an authorization request (256 random bits). */
export const createNonce = createVerifier;
/** The S256 code challenge of a verifier (RFC 7636); throws `config` for an invalid verifier. */
export const codeChallenge = (verifier) => call(w.codeChallenge, verifier);
/** A fresh verifier and its S256 challenge. */
export const pkcePair = () => {
  const verifier = createVerifier();
  return { verifier, challenge: codeChallenge(verifier) };
};

// Parameters of the callback that must not stay in the address bar or the history.
const CALLBACK_PARAMS = ['code', 'state', 'session_state', 'iss', 'error', 'error_description', 'error_uri'];
// How a request failed without an answer (`requestFailed` in wasm/src/lib.rs).
const NO_ANSWER = 0, TIMED_OUT = 1, TOO_LARGE = 2;
// The provider a discovery found, handed to the constructor.
const DISCOVERED = Symbol('provider');

// Sends a request; resolves to [status, text, Retry-After] with at most `max` bytes read, or
// throws the core's Transport / Timeout / too-large error.
async function send(fetchFn, url, init, timeout, max) {
  let res;
  let chunks;
  try {
    res = await fetchFn(url, { ...init, credentials: 'omit', redirect: 'error', signal: AbortSignal.timeout(timeout) });
    // Read at most `max` bytes, so a broken or hostile server cannot exhaust memory.
    chunks = [];
    let size = 0;
    for (const reader = res.body.getReader(); ;) {
      const { done, value } = await reader.read();
      if (done) break;
      if ((size += value.length) > max) {
        reader.cancel().catch(() => {});
        chunks = null;
        break;
      }
      chunks.push(value);
    }
  } catch (e) {
    // The core's Timeout or Transport error; a fetch refused by CORS looks like the second.
    const why = `${new URL(url).origin}: ${e?.message ?? e}; if the server is up, check that its web origins allow ${globalThis.location?.origin ?? 'this page'} (CORS)`;
    throw typed(JSON.parse(w.requestFailed(e?.name === 'TimeoutError' ? TIMED_OUT : NO_ANSWER, timeout, why)));
  }
  if (!chunks) throw typed(JSON.parse(w.requestFailed(TOO_LARGE, max, '')));
  return [res.status, await new Blob(chunks).text(), res.headers.get('retry-after') ?? '',
    res.headers.get('cache-control') ?? ''];
}

/**
 * A browser OAuth client for one provider and one public client (PKCE S256). The provider is
 * a Keycloak base URL + realm (`url`, `realm`), a realm URL (`url`), a URL template
 * (`template`, `values`), or an issuer found by discovery (`await Client.discover(...)`).
 */
export class Client {
  #o;
  #p;
  #s;
  #key;
  #fetch;
  #now;
  #flight = null;
  // The core's renewal state for this page (failures, backoff, session), and the last
  // renewal's error (what `failWithLast` throws).
  #r = undefined;
  #last = null;
  // The provider's key set for this page: {doc, fetchedAt, ttl, lastAttempt, error}.
  #k = {};

  constructor(options) {
    const { url, realm, template, values = {} } = options;
    this.#p = options[DISCOVERED] ?? call(w.provider, { url, realm, template, values: Object.entries(values) });
    this.#o = {
      clientId: options.clientId,
      redirectUri: options.redirectUri,
      scope: options.scope ?? 'openid',
      fraction: options.refreshPolicy?.fraction ?? -1,
      margin: options.refreshPolicy?.maxMarginSeconds == null ? -1 : options.refreshPolicy.maxMarginSeconds * 1000,
      timeout: options.timeoutMs ?? 30000,
      leeway: options.leewaySeconds == null ? -1 : options.leewaySeconds * 1000,
      // The core's HttpOptions defaults: 30 s, 1 MiB.
      maxBytes: options.maxResponseBytes ?? 1024 * 1024,
    };
    this.#s = options.storage ?? globalThis.sessionStorage;
    this.#key = `tokenward:${this.#p.issuer ?? this.#p.token_endpoint}:${options.clientId}:`;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    // Wall-clock milliseconds: stored tokens outlive the page, performance.now() does not.
    this.#now = options.now ?? Date.now;
  }

  /**
   * A client for any OpenID provider: fetches `issuer`'s discovery document (the core checks
   * that it names this issuer and that every endpoint is https, loopback excepted).
   */
  static async discover(options) {
    const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    const url = call(w.discoveryUrl, options.issuer);
    const [, text] = await send(fetchFn, url, { headers: { Accept: 'application/json' } },
      options.timeoutMs ?? 30000, options.maxResponseBytes ?? 1024 * 1024);
    const provider = call(w.provider, { issuer: options.issuer, document: parse(text) });
    return new Client({ ...options, [DISCOVERED]: provider });
  }

  /** Builds the authorization URL and stores the pending login (verifier, state, nonce). */
  authorizationUrl(options = {}) {
    const o = this.#o;
    const login = call(w.authorize, this.#p, o.clientId, options.redirectUri ?? o.redirectUri,
      options.scope ?? o.scope, [...new URLSearchParams(options.params ?? {})]);
    this.#s.setItem(this.#key + 'pending', JSON.stringify(login.pending));
    return href(login);
  }

  /** Starts a login: stores the pending login and sends the browser to the login page. */
  async login(options = {}) {
    location.assign(this.authorizationUrl(options));
    // The page is going away; never settle, so nothing runs against a half-unloaded page.
    return new Promise(() => {});
  }

  /**
   * Finishes a login on the redirect URI: checks state, iss and error= (core), exchanges the
   * code, stores the token and removes the code from the address bar. Returns the claims of
   * the access token.
   */
  async handleCallback(url = location.href) {
    const key = this.#key + 'pending';
    const pending = parse(this.#s.getItem(key));
    // A pending login is good for one callback, whatever its outcome.
    this.#s.removeItem(key);
    try {
      const u = new URL(url, globalThis.location?.href ?? 'http://localhost/');
      const query = u.search ? [...u.searchParams] : null;
      const req = call(w.exchange, this.#p, this.#o.clientId, pending, query);
      const answer = await this.#post(req);
      const t = call(w.tokenAnswer, answer, { pending }, this.#o.fraction, this.#o.margin);
      await this.#verify(t.i, pending.nonce);
      this.#store(t);
      this.#r = call(w.began, this.#r);
      this.#last = null;
      return this.claims();
    } finally {
      cleanAddressBar(url);
    }
  }

  /** A valid access token: renewed with the refresh token shortly before it expires. */
  accessToken() {
    return this.#token(false);
  }

  /** Renews now with the refresh token (joins a renewal already in flight). */
  refresh() {
    return this.#token(true);
  }

  /**
   * The API refused `rejected` (a 401): a renewed token. When the stored token is already
   * another one (a request refused at the same time renewed it), that one, without a request:
   * however many requests were refused with one token, one renewal. Retry once.
   */
  accessTokenAfterRejection(rejected) {
    return this.#token(this.#load()?.a === rejected);
  }

  // Asks the core what to do with the stored token now, and does it. `expired`: treat the
  // stored token as expired (an explicit refresh, or an API refused it).
  async #token(expired) {
    for (;;) {
      const t = this.#load();
      const d = call(w.decide, t, this.#r, this.#now(), expired);
      this.#r = d.renewals;
      switch (d.action) {
        case 'serve':
          return t.a;
        case 'serveAndRenew':
          // The caller keeps the still-valid token and does not wait.
          this.#renew(d.grant, t).catch(() => {});
          return t.a;
        case 'renew':
          return this.#renew(d.grant, t);
        case 'wait': {
          const a = await this.#flight;
          if (a) return a;
          // The renewal found another tab's token: decide again on it.
          expired = false;
          continue;
        }
        case 'failWithLast':
          throw this.#last;
        default:
          throw typed(d.error);
      }
    }
  }

  // One renewal in flight per page; across tabs (shared storage) one at a time with Web Locks.
  // Resolves to the new access token.
  #renew(grant, seen) {
    const locks = globalThis.navigator?.locks;
    const name = this.#key + 'refresh';
    const run = (waited) => this.#renewLocked(grant, seen, waited);
    const flight = (locks
      ? locks.request(name, { ifAvailable: true }, (lock) => (lock ? run(false) : locks.request(name, () => run(true))))
      : run(false)
    ).finally(() => {
      if (this.#flight === flight) this.#flight = null;
    });
    this.#flight = flight;
    // null: another tab renewed first; the core decides again on its token.
    return flight.then((a) => a ?? this.#token(false));
  }

  // The token another tab stored, once it arrives (localStorage reaches other tabs
  // asynchronously, and not necessarily before the lock does), or null after `ms`.
  #arrival(seen, ms) {
    if (typeof addEventListener !== 'function') return null;
    return new Promise((resolve) => {
      const done = () => {
        removeEventListener('storage', on);
        clearTimeout(timer);
        resolve(this.#load());
      };
      const on = (e) => {
        if (e.key === this.#key + 'token' && this.#load()?.a !== seen?.a) done();
      };
      const timer = setTimeout(done, ms);
      addEventListener('storage', on);
    });
  }

  async #renewLocked(grant, seen, waited) {
    let t = this.#load();
    // This tab waited for another's renewal: give its token time to arrive through storage.
    if (waited && t?.a === seen?.a) t = (await this.#arrival(seen, 250)) ?? t;
    if (t?.a !== seen?.a) {
      // Another tab renewed (or logged out) while this one waited for the lock.
      this.#r = call(w.renewed, this.#r, grant);
      return null;
    }
    for (;;) {
      try {
        const req = call(w.refreshRequest, this.#p, this.#o.clientId, t);
        const answer = await this.#post(req);
        const next = call(w.tokenAnswer, answer, { stored: t }, this.#o.fraction, this.#o.margin);
        await this.#verify(next.i, '');
        this.#store(next);
        this.#r = call(w.renewed, this.#r, grant);
        this.#last = null;
        return this.#load().a;
      } catch (e) {
        const after = call(w.failed, this.#r, this.#now(), grant, core.get(e) ?? {});
        this.#r = after.renewals;
        if (after.dropRefreshToken && t) {
          // The server refused the refresh token for good: the access token stays while valid.
          t = { ...t, r: '', rx: 0 };
          this.#store(t);
        }
        if (after.fallThrough) {
          grant = after.fallThrough;
          continue;
        }
        throw (this.#last = after.loginRequired ? typed(after.loginRequired) : e);
      }
    }
  }

  // Sends a request the core built; resolves to the answer as the core reads it.
  async #post(req) {
    const sent = this.#now();
    const [status, body, retryAfter] = await send(this.#fetch, req.url,
      { method: 'POST', headers: req.headers, body: new URLSearchParams(req.form) }, this.#o.timeout, this.#o.maxBytes);
    const json = parse(body);
    return {
      status, json, body, retryAfter, sent,
      accessClaims: decodeJwt(json?.access_token), idClaims: decodeJwt(json?.id_token),
    };
  }

  // Verifies an ID token (none: nothing to do) before it is stored: the core picks the key and
  // says when to fetch the provider's key set, WebCrypto checks the signature, the core the
  // claims (`nonce`: the login's, '' on refresh). Throws the core's invalid_token error.
  async #verify(token, nonce) {
    if (!token) return;
    const k = this.#k;
    for (let fetched = false; ;) {
      const r = call(w.idTokenKey, this.#p, token, part(token, 0), k.doc, k, this.#now(), fetched);
      if (r.unverified) return;
      if (r.failed) throw k.error;
      if (r.fetch) {
        fetched = true;
        await this.#fetchKeys(r.fetch);
        continue;
      }
      const [h, p, s] = token.split('.');
      const { kty, n, e, crv, x, y } = k.doc.keys[r.key];
      // 1: the signature holds, 0: it does not, 2: WebCrypto is missing or refused (the core says which).
      let signed = 2;
      try {
        const key = await crypto.subtle.importKey('jwk', { kty, n, e, crv, x, y }, webAlg(r.alg), false, ['verify']);
        signed = +await crypto.subtle.verify(webAlg(r.alg), key, bytes(s), new TextEncoder().encode(h + '.' + p));
      } catch {}
      call(w.idTokenChecked, signed, part(token, 1), this.#p, this.#o.clientId, nonce ?? '', this.#now(), this.#o.leeway);
      return;
    }
  }

  // Fetches the provider's key set (at most `max` bytes); a failure is kept for the core's
  // `failed` (the set held, if any, stays).
  async #fetchKeys(max) {
    const k = this.#k;
    k.lastAttempt = this.#now();
    try {
      const [status, text, , cacheControl] = await send(this.#fetch, this.#p.jwks_uri,
        { headers: { Accept: 'application/json' } }, this.#o.timeout, max);
      const doc = status === 200 ? parse(text) : undefined;
      k.ttl = call(w.keySet, doc, cacheControl);
      Object.assign(k, { doc, fetchedAt: k.lastAttempt, error: null });
    } catch (e) {
      k.error = e;
    }
  }

  #store(t) {
    this.#s.setItem(this.#key + 'token', JSON.stringify(t));
  }

  // The stored token (as the core returned it), or null when there is none or the stored
  // value is not one this client wrote (another script, an older version): then the user
  // simply logs in again.
  #load() {
    const t = parse(this.#s.getItem(this.#key + 'token'));
    return t && typeof t.a === 'string' && typeof t.r === 'string' && Number.isFinite(t.ea) ? t : null;
  }

  /** The access token's claims (not verified: the resource server does that), or null. */
  claims() {
    return decodeJwt(this.#load()?.a);
  }

  /**
   * The ID token's claims, verified (signature with the provider's keys, iss, aud, azp,
   * exp / iat, the login's nonce) before the token was stored; null when there is none or the
   * provider publishes no keys to verify it with.
   */
  idTokenClaims() {
    return this.#p.jwks_uri ? decodeJwt(this.#load()?.i) : null;
  }

  /** The provider's issuer and the endpoints this client uses (as the core checked them). */
  get provider() {
    return { ...this.#p };
  }

  /** True when a token is stored (it may need a refresh). */
  get loggedIn() {
    return this.#load() != null;
  }

  /** The end-session URL, with id_token_hint (Keycloak 18+ logs out without a prompt then). */
  logoutUrl(options = {}) {
    return href(call(w.logoutUrl, this.#p, this.#o.clientId, this.#load()?.i ?? '',
      options.postLogoutRedirectUri ?? '', options.state ?? ''));
  }

  /** Forgets the tokens and any pending login held in storage (no request to the server). */
  forget() {
    this.#s.removeItem(this.#key + 'token');
    this.#s.removeItem(this.#key + 'pending');
  }

  /** Forgets the tokens and sends the browser to the end-session URL. */
  async logout(options = {}) {
    const url = this.logoutUrl(options);
    this.forget();
    location.assign(url);
    return new Promise(() => {});
  }
}

function cleanAddressBar(url) {
  if (typeof location === 'undefined' || typeof history === 'undefined') return;
  const u = new URL(url, location.href);
  if (u.href !== location.href) return;
  for (const p of CALLBACK_PARAMS) u.searchParams.delete(p);
  history.replaceState(history.state, '', u.href);
}
