// tokenward for the browser. The Rust core (compiled to tokenward_bg.wasm) makes every OAuth
// decision: PKCE, the authorization URL, the state / iss / error= checks of the callback, the
// token request bodies, checking token responses and error answers, the nonce check, the
// early-refresh deadlines. This file is the browser's I/O around it: fetch, JSON.parse,
// storage, the redirect, the address bar and Web Locks.
import init, * as w from './tokenward_wasm.js';

await init({ module_or_path: new URL('./tokenward_wasm_bg.wasm', import.meta.url) });

/** An error from tokenward. `code` is the core's stable code name (`state_mismatch`, ...). */
export class TokenwardError extends Error {
  constructor(code, message, error, description, status) {
    super(message);
    this.name = 'TokenwardError';
    this.code = code;
    if (error) this.error = error;
    if (description) this.description = description;
    if (status > 0) this.status = status;
  }
}

// The module's operations (`op` in wasm/src/lib.rs).
const RANDOM = 0, PKCE = 1, CHALLENGE = 2, LOGIN = 3, EXCHANGE = 4, REFRESH = 5,
  TOKEN_AFTER_LOGIN = 6, TOKEN_AFTER_REFRESH = 7, LOGOUT = 8, BACKOFF = 9, FAILURE = 10;
// How a request failed, for FAILURE.
const NO_ANSWER = 0, TIMED_OUT = 1, TOO_LARGE = 2;

// Runs one of the module's operations (`op` in wasm/src/lib.rs) on string arguments (joined by
// U+0002, which becomes U+FFFD inside them) and numbers, and unpacks its answer: U+0001-separated
// fields, the first empty on success or the error code on failure (then: message, OAuth error,
// description, HTTP status, and "1" when the error means the refresh token is dead).
// Errors the core says mean "this refresh token is dead" (internal: the client then drops it).
const deadRefreshToken = new WeakSet();
const call = (op, args = [], ...n) => {
  const r = w.tw(op, args.map((a) => `${a ?? ''}`.replaceAll('\x02', '\ufffd')).join('\x02'), ...n);
  const [code, ...f] = r.split('\x01');
  if (code) {
    const e = new TokenwardError(code, f[0], f[1], f[2], +f[3]);
    if (f[4]) deadRefreshToken.add(e);
    throw e;
  }
  return f;
};

// JSON.parse that answers undefined for anything that is not JSON.
const parse = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

// An object JSON.parse made, flattened for the module's Flat (wasm/src/lib.rs): 'o', then per
// key \x01 key \x01 tagged value (s string, n integer, b1/b0, x array/object, '' null); ''
// for anything that is not an object. \x01 inside a string becomes U+FFFD.
const clean = (s) => s.replaceAll('\x01', '\ufffd');
const flat = (o) => (o && typeof o === 'object' && !Array.isArray(o)
  ? Object.entries(o).reduce((out, [k, v]) => `${out}\x01${clean(k)}\x01${v == null ? ''
    : typeof v === 'string' ? 's' + clean(v)
      : typeof v === 'number' ? 'n' + Math.min(Math.max(Math.trunc(v), -1), 2 ** 53)
        : typeof v === 'boolean' ? 'b' + +v : 'x'}`, 'o')
  : '');

/**
 * The claims of a JWT, decoded but not verified (the resource server verifies), or null for
 * anything that is not a JWT.
 */
export const decodeJwt = (jwt) => {
  const p = typeof jwt === 'string' ? jwt.split('.') : [];
  if (p.length !== 3) return null;
  try {
    const bin = atob(p[1].replace(/-/g, '+').replace(/_/g, '/'));
    const c = parse(new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0))));
    return c && typeof c === 'object' && !Array.isArray(c) ? c : null;
  } catch {
    return null;
  }
};

/** A PKCE code verifier: 43 characters, 256 bits from crypto.getRandomValues. */
export const createVerifier = () => call(RANDOM)[0];
/** A `state` value for an authorization request (256 random bits). */
export const createState = createVerifier;
/** A `nonce` value for an authorization request (256 random bits). */
export const createNonce = createVerifier;
/** The S256 code challenge of a verifier (RFC 7636); throws `config` for an invalid verifier. */
export const codeChallenge = (verifier) => call(CHALLENGE, [verifier])[0];
/** A fresh verifier and its S256 challenge. */
export const pkcePair = () => {
  const [verifier, challenge] = call(PKCE);
  return { verifier, challenge };
};

// Parameters of the callback that must not stay in the address bar or the history.
const CALLBACK_PARAMS = ['code', 'state', 'session_state', 'iss', 'error', 'error_description', 'error_uri'];

/** A browser OAuth client for one Keycloak realm and one public client (PKCE S256). */
export class Client {
  #o;
  #s;
  #key;
  #fetch;
  #flight = null;
  // The core's backoff after failed renewals (per page): how many in a row, the last error,
  // no new attempt before #notBefore, and the last answer's Retry-After.
  #failures = 0;
  #last = null;
  #notBefore = 0;
  #retry = '';

  constructor(options) {
    this.#o = {
      url: options.url,
      realm: options.realm || '',
      clientId: options.clientId,
      redirectUri: options.redirectUri,
      scope: options.scope ?? 'openid',
      fraction: options.refreshPolicy?.fraction ?? -1,
      margin: options.refreshPolicy?.maxMarginSeconds == null ? -1 : options.refreshPolicy.maxMarginSeconds * 1000,
      timeout: options.timeoutMs ?? 30000,
      // The core's HttpOptions defaults: 30 s, 1 MiB.
      maxBytes: options.maxResponseBytes ?? 1024 * 1024,
    };
    this.#s = options.storage ?? globalThis.sessionStorage;
    this.#key = `tokenward:${this.#o.url}:${this.#o.realm}:${this.#o.clientId}:`;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  #p() {
    const o = this.#o;
    return [o.url, o.realm, o.clientId];
  }

  /** Builds the authorization URL and stores the pending login (verifier, state, nonce). */
  authorizationUrl(options = {}) {
    const o = this.#o;
    const extra = new URLSearchParams(options.params ?? {}).toString();
    const [url, state, nonce, code_verifier, redirect_uri, issuer, iss] = call(LOGIN,
      [...this.#p(), options.redirectUri ?? o.redirectUri, options.scope ?? o.scope, extra]);
    // The core's PendingLogin, under its own field names.
    const pending = { state, nonce, code_verifier, redirect_uri, issuer, iss_required: !!iss };
    this.#s.setItem(this.#key + 'pending', JSON.stringify(pending));
    return url;
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
    const pending = flat(parse(this.#s.getItem(key)));
    // A pending login is good for one callback, whatever its outcome.
    this.#s.removeItem(key);
    try {
      const req = call(EXCHANGE, [...this.#p(), pending, url]);
      const sent = Date.now();
      const res = await this.#post(req);
      this.#store(this.#token(res, sent, false, pending, '', 0));
      // A new session: failed renewals before the login no longer hold anything back.
      this.#backoffOver();
      return this.claims();
    } finally {
      cleanAddressBar(url);
    }
  }

  /** A valid access token: renewed with the refresh token shortly before it expires. */
  async accessToken() {
    const t = this.#load();
    if (t) {
      const now = Date.now();
      if (now < t.ra) return t.a;
      if (now < t.ea) {
        // Early renewal: the caller keeps the still-valid token and does not wait (and after a
        // failed renewal, no new attempt until the backoff is over).
        if (now >= this.#notBefore) this.#renew(false).catch(() => {});
        return t.a;
      }
    }
    // Past expiry while a renewal just failed: its error at once, not another request (without
    // a refresh token there is nothing to retry: the core answers login_required).
    if (this.#last && t?.r && Date.now() < this.#notBefore) throw this.#last;
    return this.#renew(false);
  }

  /** Renews now with the refresh token (joins a renewal already in flight). */
  refresh() {
    return this.#renew(true);
  }

  /**
   * The API refused `rejected` (a 401): a renewed token. When the stored token is already
   * another one (a request refused at the same time renewed it), that one, without a request:
   * however many requests were refused with one token, one renewal. Retry once.
   */
  async accessTokenAfterRejection(rejected) {
    const t = this.#load();
    if (t && t.a !== rejected && Date.now() < t.ea) return t.a;
    return this.#renew(true);
  }

  // One renewal in flight per page; across tabs (shared storage) one at a time with Web Locks.
  #renew(force) {
    if (!this.#flight) {
      const seen = this.#load();
      const locks = globalThis.navigator?.locks;
      const name = this.#key + 'refresh';
      this.#flight = (locks
        ? locks.request(name, { ifAvailable: true }, (lock) =>
          lock ? this.#refresh(force, seen, false) : locks.request(name, () => this.#refresh(force, seen, true)))
        : this.#refresh(force, seen, false)
      ).then((token) => {
        this.#backoffOver();
        return token;
      }, (e) => {
        this.#last = e;
        this.#notBefore = Date.now() + +call(BACKOFF, [this.#retry], ++this.#failures)[0];
        throw e;
      }).finally(() => {
        this.#flight = null;
        this.#retry = '';
      });
    }
    return this.#flight;
  }

  // Forgets failed renewals: after a successful one, or a login.
  #backoffOver() {
    this.#failures = 0;
    this.#last = null;
    this.#notBefore = 0;
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
        if (e.key === this.#key + 'token' && this.#load()?.t !== seen.t) done();
      };
      const timer = setTimeout(done, ms);
      addEventListener('storage', on);
    });
  }

  async #refresh(force, seen, waited) {
    let t = this.#load();
    // This tab waited for another's renewal: give its token time to arrive through storage.
    if (waited && seen && t?.t === seen.t) t = (await this.#arrival(seen, 250)) ?? t;
    // Someone (another tab, with shared storage) renewed while this one waited for the lock.
    if (t && (force ? seen && t.t !== seen.t : Date.now() < t.ra)) return t.a;
    const now = Date.now();
    const req = call(REFRESH, [...this.#p(), t?.r ?? ''], t?.rx ?? 0, now);
    const res = await this.#post(req);
    this.#retry = res[2];
    try {
      this.#store(this.#token(res, now, true, '', t.r, t.rx));
    } catch (e) {
      if (deadRefreshToken.has(e)) {
        const cur = this.#load();
        // Another tab renewed meanwhile (with refresh token rotation, ours is now spent): use its token.
        if (cur && cur.t !== t.t && Date.now() < cur.ea) return cur.a;
        // The server refused the refresh token for good: forget it (the access token stays
        // while it is valid), so later calls ask for a login instead of retrying it.
        t.r = '';
        this.#s.setItem(this.#key + 'token', JSON.stringify(t));
      }
      throw e;
    }
    return this.#load().a;
  }

  async #post([url, body, ...h]) {
    const headers = {};
    for (let i = 0; i < h.length; i += 2) headers[h[i]] = h[i + 1];
    const max = this.#o.maxBytes;
    let res;
    let chunks;
    try {
      res = await this.#fetch(url, {
        method: 'POST', headers, body, credentials: 'omit', redirect: 'error',
        signal: AbortSignal.timeout(this.#o.timeout),
      });
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
      call(FAILURE, [why], e?.name === 'TimeoutError' ? TIMED_OUT : NO_ANSWER, this.#o.timeout);
    }
    if (!chunks) call(FAILURE, [], TOO_LARGE, max);
    return [res.status, await new Blob(chunks).text(), res.headers.get('retry-after') ?? ''];
  }

  // The core checks a token endpoint answer (parsed here by JSON.parse) and computes its
  // deadlines: the stored token is { a: access, r: refresh, i: ID token, t: sent, ra: renew at,
  // ea: expires at, rx: refresh token deadline } (times in ms since the epoch).
  #token([status, text, retry], sent, refreshed, pending, prevRt, prevRx) {
    const json = parse(text);
    const o = this.#o;
    const [a, r, i, ra, ea, rx] = call(refreshed ? TOKEN_AFTER_REFRESH : TOKEN_AFTER_LOGIN,
      [flat(json), text, retry, flat(decodeJwt(json?.access_token)), flat(decodeJwt(json?.id_token)),
        refreshed ? prevRt : pending],
      status, sent, prevRx, o.fraction, o.margin);
    return { a, r, i, t: sent, ra: +ra, ea: +ea, rx: +rx };
  }

  #store(t) {
    this.#s.setItem(this.#key + 'token', JSON.stringify(t));
  }

  // The stored token, or null when there is none or the stored value is not one this client
  // wrote (another script, an older version): then the user simply logs in again.
  #load() {
    const t = parse(this.#s.getItem(this.#key + 'token'));
    return t && typeof t.a === 'string' && typeof t.r === 'string' && Number.isFinite(t.ea) ? t : null;
  }

  /** The access token's claims (not verified: the resource server does that), or null. */
  claims() {
    return decodeJwt(this.#load()?.a);
  }

  /** The ID token's claims (not verified), or null. */
  idTokenClaims() {
    return decodeJwt(this.#load()?.i);
  }

  /** True when a token is stored (it may need a refresh). */
  get loggedIn() {
    return this.#load() != null;
  }

  /** The end-session URL, with id_token_hint (Keycloak 18+ logs out without a prompt then). */
  logoutUrl(options = {}) {
    const id = this.#load()?.i ?? '';
    return call(LOGOUT, [...this.#p(), id, options.postLogoutRedirectUri ?? '', options.state ?? ''])[0];
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
