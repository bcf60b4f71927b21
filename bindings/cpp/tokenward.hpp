// tokenward.hpp: header-only C++17 RAII wrapper over the tokenward C API (tokenward.h).
//
// - Every object owns its C handle through std::unique_ptr with the matching tw_*_free.
// - Strings are std::string in and out; optional values are std::optional<std::string>.
// - Failures throw tokenward::Error, which carries the tw_result code, the message and the
//   server's OAuth `error` / `error_description`.
// - Thread-safety is the C API's: a Client may be used from many threads at once; Options and
//   Login from one thread at a time.
//
// Link with libtokenward (pkg-config `tokenward`, or CMake `find_package(tokenward)` and the
// target `tokenward::tokenward`).
#ifndef TOKENWARD_HPP
#define TOKENWARD_HPP

#include <tokenward.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tokenward {

// A failed call: the code (TW_ERR_*), the library's message, and what the server said.
class Error : public std::runtime_error {
  public:
    Error(tw_result code, const std::string &message, std::string oauth_error = {},
          std::string oauth_description = {}, std::uint16_t http_status = 0)
        : std::runtime_error(message), code_(code), oauth_error_(std::move(oauth_error)),
          oauth_description_(std::move(oauth_description)), http_status_(http_status) {}

    // The error of the most recent failed call on this thread, which returned `code`.
    static Error last(tw_result code) {
        const char *e = tw_last_error_oauth_error();
        const char *d = tw_last_error_oauth_description();
        return Error(code, tw_last_error_message(), e ? e : "", d ? d : "",
                     tw_last_error_http_status());
    }

    // TW_ERR_CONFIG, TW_ERR_OAUTH, TW_ERR_MISSING_CLAIM, ... (see tokenward.h).
    tw_result code() const noexcept { return code_; }
    // The code's stable name: "config", "oauth", "missing_claim", ...
    const char *name() const noexcept { return tw_result_name(code_); }
    // The server's OAuth `error` (invalid_client, invalid_scope, invalid_grant, ...), or "".
    const std::string &oauth_error() const noexcept { return oauth_error_; }
    // The server's `error_description`, or "".
    const std::string &oauth_description() const noexcept { return oauth_description_; }
    // The HTTP status when the server answered, else 0.
    std::uint16_t http_status() const noexcept { return http_status_; }

  private:
    tw_result code_;
    std::string oauth_error_;
    std::string oauth_description_;
    std::uint16_t http_status_;
};

enum class AuthMethod : std::uint32_t {
    Auto = TW_AUTH_METHOD_AUTO,
    ClientSecretPost = TW_AUTH_METHOD_CLIENT_SECRET_POST,
    ClientSecretBasic = TW_AUTH_METHOD_CLIENT_SECRET_BASIC,
    None = TW_AUTH_METHOD_NONE,
    PrivateKeyJwt = TW_AUTH_METHOD_PRIVATE_KEY_JWT,
    ClientSecretJwt = TW_AUTH_METHOD_CLIENT_SECRET_JWT,
};

enum class Trust : std::uint32_t {
    WebPki = TW_TRUST_WEBPKI,
    Platform = TW_TRUST_PLATFORM,
};

enum class TokenKind : std::uint32_t {
    Access = TW_TOKEN_KIND_ACCESS,
    Refresh = TW_TOKEN_KIND_REFRESH,
};

// Name/value pairs: URL template values, extra login parameters.
using Params = std::vector<std::pair<std::string, std::string>>;

namespace detail {

inline void check(tw_result rc) {
    if (rc != TW_OK) throw Error::last(rc);
}

// A C string for the library; text with a NUL inside would be cut silently, so it is refused.
inline const char *cstr(const std::string &s) {
    if (s.find('\0') != std::string::npos) {
        throw Error(TW_ERR_INVALID_ARGUMENT, "a string argument contains a NUL byte");
    }
    return s.c_str();
}

inline const char *cstr(const std::optional<std::string> &s) {
    return s ? cstr(*s) : nullptr;
}

// Takes ownership of a string from the library.
inline std::optional<std::string> take(char *s) {
    if (s == nullptr) return std::nullopt;
    std::string out(s);
    tw_string_free(s);
    return out;
}

inline std::string take_required(char *s) {
    return take(s).value_or(std::string());
}

struct OptionsFree {
    void operator()(tw_options *p) const noexcept { tw_options_free(p); }
};
struct ClientFree {
    void operator()(tw_client *p) const noexcept { tw_client_free(p); }
};
struct TokenFree {
    void operator()(tw_token *p) const noexcept { tw_token_free(p); }
};
struct LoginFree {
    void operator()(tw_login *p) const noexcept { tw_login_free(p); }
};

// Copies from a buffer-filling call, growing the buffer when the library asks for more.
template <typename F> std::string fill(F &&call) {
    char small[2048];
    std::size_t n = 0;
    tw_result rc = call(small, sizeof small, &n);
    if (rc == TW_OK) return std::string(small, n);
    while (rc == TW_ERR_BUFFER_TOO_SMALL) {
        std::string buf(n, '\0');
        rc = call(&buf[0], buf.size(), &n);
        if (rc == TW_OK) {
            buf.resize(n);
            return buf;
        }
    }
    throw Error::last(rc);
}

struct CParams {
    std::vector<tw_param> items;
    explicit CParams(const Params &params) {
        items.reserve(params.size());
        for (const auto &p : params) items.push_back(tw_param{cstr(p.first), cstr(p.second)});
    }
    const tw_param *data() const { return items.empty() ? nullptr : items.data(); }
};

} // namespace detail

// A token response, borrowed: what a token hook receives (valid during the call only).
class TokenView {
  public:
    explicit TokenView(const tw_token *token) noexcept : t_(token) {}

    std::string access_token() const {
        return detail::fill([this](char *b, std::size_t l, std::size_t *n) {
            return tw_token_access_token(t_, b, l, n);
        });
    }
    // Absent for client credentials at Keycloak. A secret: store it like a password.
    std::optional<std::string> refresh_token() const { return field(tw_token_refresh_token); }
    std::optional<std::string> id_token() const { return field(tw_token_id_token); }
    std::optional<std::string> scope() const { return field(tw_token_scope); }
    // The access token's claims as JSON (decoded, not verified); absent for opaque tokens.
    std::optional<std::string> claims_json() const { return field(tw_token_claims_json); }
    // The ID token's claims, verified (signature, iss, aud, azp, exp/iat, nonce); nullopt
    // when the answer had no ID token.
    std::optional<std::string> id_token_claims_json() const { return field(tw_token_id_token_claims_json); }
    // Keycloak's extra response fields (not-before-policy, session_state, ...) as JSON.
    std::string extra_json() const { return field(tw_token_extra_json).value_or("{}"); }
    // The server's expires_in (0 when absent).
    std::chrono::seconds expires_in() const {
        return std::chrono::seconds(tw_token_expires_in(t_));
    }
    // How long the token is usable after its request was sent (0 when unknown).
    std::chrono::milliseconds lifetime() const {
        return std::chrono::milliseconds(tw_token_lifetime_ms(t_));
    }
    const tw_token *get() const noexcept { return t_; }

  private:
    std::optional<std::string> field(tw_result (*f)(const tw_token *, char **)) const {
        char *s = nullptr;
        detail::check(f(t_, &s));
        return detail::take(s);
    }

    const tw_token *t_;
};

// An owned token response (tw_token_free on destruction). Move-only.
class Token : public TokenView {
  public:
    explicit Token(tw_token *token) noexcept : TokenView(token), owner_(token) {}

  private:
    std::unique_ptr<tw_token, detail::TokenFree> owner_;
};

// Called with every new token, on the thread that obtained it (possibly the library's
// background renewal thread): make it thread-safe. Exceptions it throws are swallowed (they
// cannot cross the C library). It must not call the same Client.
using TokenHook = std::function<void(const TokenView &)>;

// A client's settings. Builder-style setters that chain on a named object or a temporary
// (`auto o = Options("id").secret(s).scope("openid");`); copied into a Client when one is made.
// Move-only.
class Options {
  public:
    explicit Options(const std::string &client_id) {
        tw_options *o = nullptr;
        detail::check(tw_options_new(detail::cstr(client_id), &o));
        p_.reset(o);
    }

    Options &secret(const std::string &s) & {
        detail::check(tw_options_set_secret(p_.get(), detail::cstr(s)));
        return *this;
    }
    Options &&secret(const std::string &s) && { return std::move(secret(s)); }
    Options &auth_method(AuthMethod m) & {
        detail::check(tw_options_set_auth_method(p_.get(), static_cast<tw_auth_method>(m)));
        return *this;
    }
    Options &&auth_method(AuthMethod m) && { return std::move(auth_method(m)); }
    // By name, as a config file spells it: "client_secret_basic" (or "basic"), "private_key_jwt",
    // "auto", ...; the library parses it and throws Error (config) for an unknown one.
    Options &auth_method(const std::string &name) & {
        detail::check(tw_options_set_auth_method_name(p_.get(), detail::cstr(name)));
        return *this;
    }
    Options &&auth_method(const std::string &name) && { return std::move(auth_method(name)); }
    // Space-separated, e.g. "openid user_impersonation".
    Options &scope(const std::string &s) & {
        detail::check(tw_options_set_scope(p_.get(), detail::cstr(s)));
        return *this;
    }
    Options &&scope(const std::string &s) && { return std::move(scope(s)); }
    // private_key_jwt: the client's private key from a PEM file (RSA or EC) and its kid.
    Options &private_key_file(const std::string &path, const std::optional<std::string> &key_id = {}) & {
        detail::check(tw_options_set_private_key_file(p_.get(), detail::cstr(path), detail::cstr(key_id)));
        return *this;
    }
    Options &&private_key_file(const std::string &path, const std::optional<std::string> &key_id = {}) && {
        return std::move(private_key_file(path, key_id));
    }
    Options &audience(const std::string &a) & {
        detail::check(tw_options_set_audience(p_.get(), detail::cstr(a)));
        return *this;
    }
    Options &&audience(const std::string &a) && { return std::move(audience(a)); }
    Options &redirect_uri(const std::string &u) & {
        detail::check(tw_options_set_redirect_uri(p_.get(), detail::cstr(u)));
        return *this;
    }
    Options &&redirect_uri(const std::string &u) && { return std::move(redirect_uri(u)); }
    Options &require_claim(const std::string &c) & {
        detail::check(tw_options_add_required_claim(p_.get(), detail::cstr(c)));
        return *this;
    }
    Options &&require_claim(const std::string &c) && { return std::move(require_claim(c)); }
    Options &refresh_margin(std::chrono::milliseconds m) & {
        detail::check(tw_options_set_refresh_margin_ms(p_.get(), static_cast<std::uint64_t>(m.count())));
        return *this;
    }
    Options &&refresh_margin(std::chrono::milliseconds m) && { return std::move(refresh_margin(m)); }
    Options &timeout(std::chrono::milliseconds t) & {
        detail::check(tw_options_set_timeout_ms(p_.get(), static_cast<std::uint64_t>(t.count())));
        return *this;
    }
    Options &&timeout(std::chrono::milliseconds t) && { return std::move(timeout(t)); }
    Options &connect_timeout(std::chrono::milliseconds t) & {
        detail::check(tw_options_set_connect_timeout_ms(p_.get(), static_cast<std::uint64_t>(t.count())));
        return *this;
    }
    Options &&connect_timeout(std::chrono::milliseconds t) && { return std::move(connect_timeout(t)); }
    Options &ca_file(const std::string &path) & {
        detail::check(tw_options_set_ca_file(p_.get(), detail::cstr(path)));
        return *this;
    }
    Options &&ca_file(const std::string &path) && { return std::move(ca_file(path)); }
    Options &trust(Trust t) & {
        detail::check(tw_options_set_trust(p_.get(), static_cast<tw_trust>(t)));
        return *this;
    }
    Options &&trust(Trust t) && { return std::move(trust(t)); }
    Options &proxy_from_env(bool enabled) & {
        detail::check(tw_options_set_proxy_from_env(p_.get(), enabled));
        return *this;
    }
    Options &&proxy_from_env(bool enabled) && { return std::move(proxy_from_env(enabled)); }
    // The issuer tokens carry when the provider is reached by another URL (Keycloak's hostname).
    Options &expected_issuer(const std::string &issuer) & {
        detail::check(tw_options_set_expected_issuer(p_.get(), detail::cstr(issuer)));
        return *this;
    }
    Options &&expected_issuer(const std::string &issuer) && { return std::move(expected_issuer(issuer)); }
    // How far clocks may disagree when exp / iat are checked (default 30 s).
    Options &leeway(std::chrono::milliseconds l) & {
        detail::check(tw_options_set_leeway_ms(p_.get(), static_cast<std::uint64_t>(l.count())));
        return *this;
    }
    Options &&leeway(std::chrono::milliseconds l) && { return std::move(leeway(l)); }
    // See TokenHook. An empty function removes the hook.
    Options &on_token(TokenHook hook) & {
        if (hook) {
            hook_ = std::make_shared<TokenHook>(std::move(hook));
            detail::check(tw_options_set_on_token(p_.get(), &Options::trampoline, hook_.get()));
        } else {
            hook_.reset();
            detail::check(tw_options_set_on_token(p_.get(), nullptr, nullptr));
        }
        return *this;
    }
    Options &&on_token(TokenHook hook) && { return std::move(on_token(hook)); }

    const tw_options *get() const noexcept { return p_.get(); }

  private:
    friend class Client;
    static void trampoline(void *user_data, const tw_token *token) noexcept {
        try {
            (*static_cast<TokenHook *>(user_data))(TokenView(token));
        } catch (...) {
        }
    }

    std::unique_ptr<tw_options, detail::OptionsFree> p_;
    std::shared_ptr<TokenHook> hook_;
};

// An authorization-code login in progress (PKCE verifier, state, nonce). Holds secrets.
// Spent by its first Client::login_finish, whatever the outcome.
class Login {
  public:
    explicit Login(tw_login *login) noexcept : p_(login) {}

    // The URL to open in the user's browser ("" for a login restored from JSON).
    std::string url() const {
        const char *u = tw_login_url(p_.get());
        return u ? u : "";
    }
    // The secret state as JSON, to finish the login elsewhere. Store it privately.
    std::string to_json() const {
        char *s = nullptr;
        detail::check(tw_login_to_json(p_.get(), &s));
        return detail::take_required(s);
    }
    static Login from_json(const std::string &json) {
        tw_login *l = nullptr;
        detail::check(tw_login_from_json(detail::cstr(json), &l));
        return Login(l);
    }
    const tw_login *get() const noexcept { return p_.get(); }

  private:
    std::unique_ptr<tw_login, detail::LoginFree> p_;
};

// A device login in progress (RFC 8628): show user_code() and verification_uri(), then
// Client::device_wait. cancel() may be called from any thread to end a wait.
class Device {
  public:
    explicit Device(tw_device *d) noexcept : p_(d) {}
    std::string user_code() const { return tw_device_user_code(p_.get()); }
    std::string verification_uri() const { return tw_device_verification_uri(p_.get()); }
    // The URI with the code in it, when the provider gave one.
    std::optional<std::string> verification_uri_complete() const {
        const char *u = tw_device_verification_uri_complete(p_.get());
        return u ? std::optional<std::string>(u) : std::nullopt;
    }
    std::uint64_t expires_in() const noexcept { return tw_device_expires_in(p_.get()); }
    std::uint64_t interval() const noexcept { return tw_device_interval(p_.get()); }
    void cancel() const noexcept { tw_device_cancel(p_.get()); }
    const tw_device *get() const noexcept { return p_.get(); }

  private:
    struct Free {
        void operator()(tw_device *d) const noexcept { tw_device_free(d); }
    };
    std::unique_ptr<tw_device, Free> p_;
};

// An OAuth client for one provider, with its token cache. Thread-safe; move-only.
class Client {
  public:
    // A bare token URL (ecoinvent, Iopole). No network traffic.
    static Client from_token_url(const std::string &token_url, const Options &o) {
        tw_client *c = nullptr;
        detail::check(tw_client_from_token_url(detail::cstr(token_url), o.get(), &c));
        return Client(c, o.hook_);
    }
    // A Keycloak server and realm ("https://auth.test.ecocoa.ch", "vion"). No network traffic.
    static Client from_keycloak(const std::string &base_url, const std::string &realm,
                                const Options &o) {
        tw_client *c = nullptr;
        detail::check(
            tw_client_from_keycloak(detail::cstr(base_url), detail::cstr(realm), o.get(), &c));
        return Client(c, o.hook_);
    }
    // A URL template and its values (Docbyte). No network traffic.
    static Client from_template(const std::string &url_template, const Params &values,
                                const Options &o) {
        detail::CParams p(values);
        tw_client *c = nullptr;
        detail::check(tw_client_from_template(detail::cstr(url_template), p.data(), p.items.size(),
                                              o.get(), &c));
        return Client(c, o.hook_);
    }
    // OpenID Connect discovery at `issuer` (blocking).
    static Client discover(const std::string &issuer, const Options &o) {
        tw_client *c = nullptr;
        detail::check(tw_client_discover(detail::cstr(issuer), o.get(), &c));
        return Client(c, o.hook_);
    }

    // A valid access token, from the cache or renewed (single-flight).
    std::string access_token() const {
        return detail::fill([this](char *b, std::size_t l, std::size_t *n) {
            return tw_client_access_token(p_.get(), b, l, n);
        });
    }
    // The API refused `rejected` (a 401): a renewed token, or the one another thread already
    // renewed after the same refusal (one renewal for any number of threads). Retry once.
    std::string access_token_after_rejection(const std::string &rejected) const {
        return detail::fill([this, &rejected](char *b, std::size_t l, std::size_t *n) {
            return tw_client_access_token_after_rejection(p_.get(), rejected.c_str(), b, l, n);
        });
    }
    // "Bearer <token>".
    std::string authorization_header() const {
        return detail::fill([this](char *b, std::size_t l, std::size_t *n) {
            return tw_client_authorization_header(p_.get(), b, l, n);
        });
    }
    Token token() const {
        tw_token *t = nullptr;
        detail::check(tw_client_token(p_.get(), &t));
        return Token(t);
    }
    // The current access token's claims as JSON; absent for opaque tokens.
    std::optional<std::string> claims_json() const {
        char *s = nullptr;
        detail::check(tw_client_claims_json(p_.get(), &s));
        return detail::take(s);
    }
    // Renews now (refresh token, else client credentials).
    Token refresh() const {
        tw_token *t = nullptr;
        detail::check(tw_client_refresh(p_.get(), &t));
        return Token(t);
    }
    // Resumes a session from a stored refresh token.
    Token resume(const std::string &refresh_token) const {
        tw_token *t = nullptr;
        detail::check(tw_client_resume(p_.get(), detail::cstr(refresh_token), &t));
        return Token(t);
    }
    void revoke(const std::string &token, TokenKind kind) const {
        detail::check(tw_client_revoke(p_.get(), detail::cstr(token), static_cast<tw_token_kind>(kind)));
    }
    // The server's introspection answer as JSON ("active" says whether the token is valid).
    std::string introspect(const std::string &token, TokenKind kind) const {
        char *s = nullptr;
        detail::check(tw_client_introspect(p_.get(), detail::cstr(token),
                                           static_cast<tw_token_kind>(kind), &s));
        return detail::take_required(s);
    }
    std::string end_session_url(const std::optional<std::string> &post_logout_redirect_uri = {}) const {
        char *s = nullptr;
        detail::check(tw_client_end_session_url(p_.get(), detail::cstr(post_logout_redirect_uri), &s));
        return detail::take_required(s);
    }
    // Starts a PKCE login; unset arguments fall back to the Options.
    Login login_begin(const std::optional<std::string> &redirect_uri = {},
                      const std::optional<std::string> &scope = {}, const Params &extra = {}) const {
        detail::CParams p(extra);
        tw_login *l = nullptr;
        detail::check(tw_client_login_begin(p_.get(), detail::cstr(redirect_uri), detail::cstr(scope),
                                            p.data(), p.items.size(), &l));
        return Login(l);
    }
    // Finishes a login from the URL the provider redirected to. A login is spent by its first
    // callback, whatever the outcome: finishing it again throws (TW_ERR_LOGIN_REQUIRED, "start
    // a new login") without a request.
    Token login_finish(const Login &login, const std::string &callback_url) const {
        tw_token *t = nullptr;
        detail::check(tw_client_login_finish(p_.get(), login.get(), detail::cstr(callback_url), &t));
        return Token(t);
    }

    // Starts a device login (RFC 8628); scope unset: the Options' scopes.
    Device device_begin(const std::optional<std::string> &scope = {}, bool pkce = false) const {
        tw_device *d = nullptr;
        detail::check(tw_client_device_begin(p_.get(), detail::cstr(scope), pkce, &d));
        return Device(d);
    }
    // Waits for the user's approval and caches the login. Throws Error: TW_ERR_OAUTH with
    // access_denied / expired_token, TW_ERR_LOGIN_REQUIRED when cancelled.
    Token device_wait(const Device &device) const {
        tw_token *t = nullptr;
        detail::check(tw_client_device_wait(p_.get(), device.get(), &t));
        return Token(t);
    }
    // Token exchange (RFC 8693): a token for `audience` / `scope` on behalf of the subject
    // token's user. Cached per (subject, audience, scope, kind).
    Token exchange_token(const std::string &subject_token, const std::optional<std::string> &audience = {},
                         const std::optional<std::string> &scope = {},
                         TokenKind requested = TokenKind::Access) const {
        tw_token *t = nullptr;
        detail::check(tw_client_exchange_token(p_.get(), detail::cstr(subject_token), detail::cstr(audience),
                                               detail::cstr(scope), static_cast<tw_token_kind>(requested), &t));
        return Token(t);
    }
    // Ends the session without a browser (back-channel logout) and revokes the refresh token.
    void logout(const std::string &refresh_token) const {
        detail::check(tw_client_logout(p_.get(), detail::cstr(refresh_token)));
    }

    // Verifies an access token presented to your API; returns its verified claims as JSON.
    // Throws Error with TW_ERR_INVALID_TOKEN (the message names the rule) or
    // TW_ERR_MISSING_CLAIM.
    std::string verify_access_token(const std::string &token,
                                    const std::optional<std::string> &audience = {},
                                    const std::vector<std::string> &required_claims = {},
                                    const std::vector<std::string> &required_roles = {}) const {
        std::vector<const char *> claims, roles;
        for (const auto &c : required_claims) claims.push_back(detail::cstr(c));
        for (const auto &r : required_roles) roles.push_back(detail::cstr(r));
        char *s = nullptr;
        detail::check(tw_client_verify_access_token(p_.get(), detail::cstr(token), detail::cstr(audience),
                                                    claims.data(), claims.size(), roles.data(),
                                                    roles.size(), &s));
        return detail::take_required(s);
    }
    // The logged-in user's claims from the userinfo endpoint, as JSON.
    std::string userinfo() const {
        char *s = nullptr;
        detail::check(tw_client_userinfo(p_.get(), &s));
        return detail::take_required(s);
    }

    const tw_client *get() const noexcept { return p_.get(); }

  private:
    Client(tw_client *c, std::shared_ptr<TokenHook> hook) noexcept : hook_(std::move(hook)), p_(c) {}

    // Declared first so it is destroyed last: tw_client_free guarantees the hook is done.
    std::shared_ptr<TokenHook> hook_;
    std::unique_ptr<tw_client, detail::ClientFree> p_;
};

inline std::string version() { return tw_version(); }

} // namespace tokenward

#endif
