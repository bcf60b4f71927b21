/** The core's stable error codes (the same names in every tokenward binding). */
export type ErrorCode =
  | 'config'
  | 'insecure_url'
  | 'transport'
  | 'timeout'
  | 'http'
  | 'oauth'
  | 'api'
  | 'invalid_response'
  | 'state_mismatch'
  | 'issuer_mismatch'
  | 'missing_claim'
  | 'login_required'
  | 'invalid_token';

/** Every failure is a TokenwardError with a stable `code`. */
export class TokenwardError extends Error {
  readonly name: 'TokenwardError';
  readonly code: ErrorCode;
  /** The server's OAuth `error` (`invalid_grant`, `access_denied`, ...), when it sent one. */
  readonly error?: string;
  /** The server's `error_description`, when it sent one. */
  readonly description?: string;
  /** The HTTP status of the response that failed, when there was one. */
  readonly status?: number;
}

/** A PKCE code verifier: 43 characters, 256 bits from crypto.getRandomValues. */
export function createVerifier(): string;
/** A `state` value: 43 characters, 256 random bits. */
export function createState(): string;
/** A `nonce` value: 43 characters, 256 random bits. */
export function createNonce(): string;
/** The S256 challenge of a verifier (RFC 7636); throws `config` for an invalid verifier. */
export function codeChallenge(verifier: string): string;
/** A fresh verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string };
/** The claims of a JWT, decoded but not verified (the resource server verifies); null for anything else. */
export function decodeJwt(jwt: string | null | undefined): Claims | null;

/** Where the pending login and the tokens are kept: sessionStorage by default. */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Options every client takes, however its provider is given. */
export interface ClientSettings {
  /** A public client with PKCE S256. */
  clientId: string;
  /** Registered redirect URI; its page calls `handleCallback()`. */
  redirectUri: string;
  /** Space-separated scopes; default `openid`. */
  scope?: string;
  /** Default: `sessionStorage`. Pass `localStorage` to share the login between tabs. */
  storage?: TokenStorage;
  /** Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** The clock, in milliseconds since the epoch; default `Date.now` (tests pass their own). */
  now?: () => number;
  /** Renew when less than min(fraction × lifetime, maxMarginSeconds) is left (default 0.1, 60). */
  refreshPolicy?: { fraction?: number; maxMarginSeconds?: number };
  /** Per request; default 30000. */
  timeoutMs?: number;
  /** Answers larger than this are refused (`invalid_response`); default 1 MiB. */
  maxResponseBytes?: number;
  /**
   * How far clocks may disagree when an ID token's `exp` / `iat` are checked; default 30.
   */
  leewaySeconds?: number;
}

/** A Keycloak realm: base URL + realm, or the realm's URL alone. */
export interface KeycloakOptions extends ClientSettings {
  /** Keycloak's base URL (`https://sso.example.com`), or the realm URL when `realm` is omitted. */
  url: string;
  /** The realm name (`vion`). */
  realm?: string;
}

/** A URL template such as `https://keycloak.{account}.{environment}.example.com/realms/{tenant}`. */
export interface TemplateOptions extends ClientSettings {
  template: string;
  /** A value for every placeholder (plain names: no `/ ? # @ : %` or spaces). */
  values: Record<string, string>;
}

/** Any OpenID provider, by discovery of `issuer`'s `/.well-known/openid-configuration`. */
export interface DiscoveryOptions extends ClientSettings {
  issuer: string;
}

export type ClientOptions = KeycloakOptions | TemplateOptions;

/** The provider's issuer and the endpoints a browser client uses, as the core checked them. */
export interface ProviderInfo {
  issuer?: string;
  token_endpoint: string;
  authorization_endpoint?: string;
  end_session_endpoint?: string;
  /** The provider's signing keys (JWKS), which ID tokens are verified with. */
  jwks_uri?: string;
  /** The provider promised `iss` on every callback (RFC 9207). */
  callback_iss_required: boolean;
}

export interface LoginOptions {
  /** Overrides the client's scopes for this login. */
  scope?: string;
  redirectUri?: string;
  /** Further authorization parameters: `prompt`, `login_hint`, `kc_idp_hint`, `ui_locales`, ... */
  params?: Record<string, string>;
}

/** JWT claims (decoded, not verified). */
export type Claims = Record<string, unknown>;

export class Client {
  /** A client for a Keycloak realm or a URL template; throws `config` / `insecure_url` at once. */
  constructor(options: ClientOptions);
  /** A client for any OpenID provider: fetches and checks `issuer`'s discovery document. */
  static discover(options: DiscoveryOptions): Promise<Client>;
  /** The provider's issuer and endpoints. */
  readonly provider: ProviderInfo;
  /** Stores the pending login (verifier, state, nonce) and returns the authorization URL. */
  authorizationUrl(options?: LoginOptions): string;
  /** Stores the pending login and redirects to the login page (never resolves). */
  login(options?: LoginOptions): Promise<never>;
  /**
   * On the redirect URI: checks `state`, `iss` and `error=`, exchanges the code, stores the
   * token and removes the code from the address bar. Resolves to the access token's claims.
   */
  handleCallback(url?: string): Promise<Claims>;
  /**
   * A valid access token, renewed shortly before expiry; `login_required` when there is none.
   * (`handleCallback` also answers `login_required` in a tab that has no pending login.)
   */
  accessToken(): Promise<string>;
  /** Renews now with the refresh token. */
  refresh(): Promise<string>;
  /**
   * The API answered 401 to `rejected`: a renewed token, or the one a request refused at the
   * same time already renewed (one renewal however many were refused). Retry once with it.
   */
  accessTokenAfterRejection(rejected: string): Promise<string>;
  /** The access token's claims, or null when logged out. */
  claims(): Claims | null;
  /**
   * The ID token's claims, verified before the token was stored (signature with the
   * provider's keys through WebCrypto; iss, aud, azp, exp / iat, the login's nonce by the
   * core); null when there is none or the provider publishes no keys (`jwks_uri`).
   */
  idTokenClaims(): Claims | null;
  /** True when a token is stored (it may need a refresh). */
  readonly loggedIn: boolean;
  /** The end-session URL with `id_token_hint`. */
  logoutUrl(options?: { postLogoutRedirectUri?: string; state?: string }): string;
  /** Forgets the stored tokens and pending login. */
  forget(): void;
  /** Forgets the tokens and redirects to the end-session URL (never resolves). */
  logout(options?: { postLogoutRedirectUri?: string; state?: string }): Promise<never>;
}
