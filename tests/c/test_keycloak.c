/* The four seed systems against the real Keycloak harness (tests/keycloak): every way to make
 * a client, post and basic auth, the server's errors through the last-error accessors, the
 * Docbyte tenant claim, the cache, revocation, a PKCE login with refresh, resume and logout,
 * and 16 threads through the expiry of 2-second tokens. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <tokenward.h>

#include "tw_test.h"

static const char *kc;
static char token_path[512];

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static tw_options *opts(const char *client_id, const char *secret_var) {
    tw_options *o = NULL;
    tw_options_new(client_id, &o);
    if (secret_var != NULL) tw_options_set_secret(o, tw_env(secret_var));
    return o;
}

static char *token_string(tw_client *c) {
    static char buf[8192];
    size_t n = 0;
    if (tw_client_access_token(c, buf, sizeof buf, &n) != TW_OK) return NULL;
    return buf;
}

struct counter {
    pthread_mutex_t lock;
    int calls;
    char refresh_token[4096];
};

static void on_token(void *user_data, const tw_token *token) {
    struct counter *c = user_data;
    char *rt = NULL;
    pthread_mutex_lock(&c->lock);
    c->calls++;
    if (tw_token_refresh_token(token, &rt) == TW_OK && rt != NULL) {
        snprintf(c->refresh_token, sizeof c->refresh_token, "%s", rt);
    }
    tw_string_free(rt);
    pthread_mutex_unlock(&c->lock);
}

static void test_ecoinvent(void) {
    tw_options *o = opts("ecoinvent-client", "TW_ECOINVENT_CLIENT_SECRET");
    tw_client *c = NULL;
    tw_token *t = NULL;
    char *s = NULL;
    char first[8192];
    struct counter count;

    memset(&count, 0, sizeof count);
    pthread_mutex_init(&count.lock, NULL);
    snprintf(token_path, sizeof token_path, "%s/realms/ecoinvent/protocol/openid-connect/token", kc);
    tw_options_set_on_token(o, on_token, &count);
    CHECK_RC(tw_client_from_token_url(token_path, o, &c), TW_OK, "ecoinvent: client from token URL");
    CHECK(token_string(c) != NULL, "ecoinvent: client credentials (post)");
    snprintf(first, sizeof first, "%s", token_string(c));
    CHECK(tw_streq(token_string(c), first), "ecoinvent: second call is a cache hit");
    CHECK(count.calls == 1, "ecoinvent: one token request for two calls (hook saw %d)", count.calls);
    CHECK_RC(tw_client_token(c, &t), TW_OK, "ecoinvent: tw_client_token");
    CHECK(tw_token_expires_in(t) >= 3599 && tw_token_expires_in(t) <= 3600, "ecoinvent: 3600 s token");
    CHECK_RC(tw_token_extra_json(t, &s), TW_OK, "ecoinvent: extra fields");
    CHECK(tw_contains(s, "not-before-policy"), "ecoinvent: Keycloak's not-before-policy kept");
    tw_string_free(s);
    CHECK_RC(tw_token_refresh_token(t, &s), TW_OK, "ecoinvent: refresh token accessor");
    CHECK(s == NULL, "ecoinvent: client credentials come without a refresh token");
    tw_token_free(t);
    tw_client_free(c);
    tw_options_free(o);
    pthread_mutex_destroy(&count.lock);

    o = opts("ecoinvent-client", "TW_ECOINVENT_CLIENT_SECRET");
    tw_options_set_auth_method(o, TW_AUTH_METHOD_CLIENT_SECRET_BASIC);
    CHECK_RC(tw_client_from_token_url(token_path, o, &c), TW_OK, "ecoinvent: basic-auth client");
    CHECK(token_string(c) != NULL, "ecoinvent: client credentials (basic)");
    tw_client_free(c);
    tw_options_free(o);

    tw_options_new("ecoinvent-client", &o);
    tw_options_set_secret(o, "not-the-secret-4711");
    tw_client_from_token_url(token_path, o, &c);
    CHECK_RC(tw_client_access_token(c, first, sizeof first, &(size_t){0}), TW_ERR_OAUTH,
             "ecoinvent: wrong secret -> TW_ERR_OAUTH");
    /* Keycloak 26.7 says unauthorized_client here; the core reports the RFC's invalid_client. */
    CHECK(tw_streq(tw_last_error_oauth_error(), "invalid_client"), "wrong secret: invalid_client");
    CHECK(tw_streq(tw_last_error_oauth_description(), "Invalid client or Invalid client credentials"),
          "wrong secret: Keycloak's description from the last error");
    CHECK(tw_last_error_http_status() == 401, "wrong secret: HTTP 401");
    CHECK(!tw_contains(tw_last_error_message(), "not-the-secret-4711"), "wrong secret: not in message");
    tw_client_free(c);
    tw_options_free(o);

    tw_options_new("no-such-client", &o);
    tw_options_set_secret(o, "x");
    tw_client_from_token_url(token_path, o, &c);
    CHECK_RC(tw_client_access_token(c, first, sizeof first, &(size_t){0}), TW_ERR_OAUTH,
             "unknown client id -> TW_ERR_OAUTH");
    CHECK(tw_streq(tw_last_error_oauth_error(), "invalid_client"), "unknown client id: invalid_client");
    CHECK(tw_last_error_oauth_description() != NULL, "unknown client id: description: %s",
          tw_last_error_oauth_description() ? tw_last_error_oauth_description() : "(none)");
    tw_client_free(c);
    tw_options_free(o);
}

static void test_vion_service(void) {
    tw_options *o = opts("vion-service", "TW_VION_SERVICE_SECRET");
    tw_client *c = NULL;
    char *s = NULL;
    char before[8192];

    CHECK_RC(tw_client_from_keycloak(kc, "vion", o, &c), TW_OK, "vion: client from base URL + realm");
    CHECK(token_string(c) != NULL, "vion: client credentials");
    snprintf(before, sizeof before, "%s", token_string(c));
    CHECK_RC(tw_client_claims_json(c, &s), TW_OK, "vion: claims");
    CHECK(tw_contains(s, "\"azp\":\"vion-service\""), "vion: azp is the client");
    tw_string_free(s);

    /* (Keycloak 26.7 introspects client-credentials tokens as inactive: they have no session.) */
    CHECK_RC(tw_client_introspect(c, "garbage-token", TW_TOKEN_KIND_ACCESS, &s), TW_OK,
             "vion: introspect");
    CHECK(tw_streq(s, "{\"active\":false}"), "vion: a garbage token is inactive");
    tw_string_free(s);
    CHECK_RC(tw_client_revoke(c, before, TW_TOKEN_KIND_ACCESS), TW_OK, "vion: revoke the access token");
    CHECK(token_string(c) != NULL && !tw_streq(token_string(c), before),
          "vion: revoking the cached token empties the cache (a new token next)");
    CHECK_RC(tw_client_revoke(c, "garbage-token", TW_TOKEN_KIND_ACCESS), TW_OK,
             "vion: revoking an unknown token is not an error");
    tw_client_free(c);
    tw_options_free(o);
}

static void test_iopole(void) {
    char issuer[512];
    tw_options *o;
    tw_client *c = NULL;
    tw_token *t = NULL;
    char *s = NULL;

    snprintf(issuer, sizeof issuer, "%s/realms/iopole", kc);
    o = opts("iopole-admin", "TW_IOPOLE_ADMIN_SECRET");
    CHECK_RC(tw_client_discover(issuer, o, &c), TW_OK, "iopole: client by discovery");
    CHECK_RC(tw_client_claims_json(c, &s), TW_OK, "iopole-admin: claims");
    CHECK(tw_contains(s, "\"admin\"") && !tw_contains(s, "\"user\""), "iopole-admin: role admin, not user");
    tw_string_free(s);
    tw_client_free(c);
    tw_options_free(o);

    o = opts("iopole-user", "TW_IOPOLE_USER_SECRET");
    tw_options_set_scope(o, "invoicing");
    CHECK_RC(tw_client_discover(issuer, o, &c), TW_OK, "iopole-user: scope invoicing");
    CHECK_RC(tw_client_token(c, &t), TW_OK, "iopole-user: token");
    CHECK_RC(tw_token_scope(t, &s), TW_OK, "iopole-user: granted scope");
    CHECK(tw_contains(s, "invoicing") && !tw_contains(s, "directory"), "iopole-user: scope %s", s ? s : "");
    tw_string_free(s);
    tw_token_free(t);
    CHECK_RC(tw_client_claims_json(c, &s), TW_OK, "iopole-user: claims");
    CHECK(tw_contains(s, "\"user\"") && !tw_contains(s, "\"admin\""), "iopole-user: role user, not admin");
    tw_string_free(s);
    tw_client_free(c);

    tw_options_set_scope(o, "nosuchscope");
    tw_client_discover(issuer, o, &c);
    CHECK(token_string(c) == NULL && tw_last_error_code() == TW_ERR_OAUTH, "unknown scope refused");
    CHECK(tw_streq(tw_last_error_oauth_error(), "invalid_scope"), "unknown scope: invalid_scope");
    CHECK(tw_contains(tw_last_error_oauth_description(), "nosuchscope"), "unknown scope: named");
    tw_client_free(c);
    tw_options_free(o);
}

static void test_docbyte(void) {
    /* KC_URL is http://127.0.0.1:PORT: fill a Docbyte-shaped template with host, port, tenant. */
    char host[128] = "", port[16] = "";
    tw_param values[3];
    const char *tpl = "http://{host}:{port}/realms/{tenant}";
    tw_options *o;
    tw_client *c = NULL;
    tw_token *t = NULL;
    char *s = NULL;

    CHECK(sscanf(kc, "http://%127[^:]:%15[0-9]", host, port) == 2, "KC_URL has host and port");
    values[0].name = "host";
    values[0].value = host;
    values[1].name = "port";
    values[1].value = port;
    values[2].name = "tenant";
    values[2].value = "acme";

    o = opts("vault-service", "TW_VAULT_SERVICE_SECRET");
    tw_options_set_scope(o, "openid");
    tw_options_add_required_claim(o, "tenant");
    CHECK_RC(tw_client_from_template(tpl, values, 3, o, &c), TW_OK, "docbyte: client from URL template");
    CHECK_RC(tw_client_token(c, &t), TW_OK, "docbyte: vault-service token with `tenant`");
    CHECK_RC(tw_token_claims_json(t, &s), TW_OK, "docbyte: claims");
    CHECK(tw_contains(s, "\"tenant\""), "docbyte: tenant claim present");
    tw_string_free(s);
    CHECK_RC(tw_token_refresh_token(t, &s), TW_OK, "docbyte: refresh token accessor");
    CHECK(s == NULL, "docbyte: no refresh token (request a new one before expiry)");
    tw_token_free(t);
    tw_client_free(c);
    tw_options_free(o);

    o = opts("vault-notenant", "TW_VAULT_NOTENANT_SECRET");
    tw_options_set_scope(o, "openid");
    tw_options_add_required_claim(o, "tenant");
    CHECK_RC(tw_client_from_template(tpl, values, 3, o, &c), TW_OK, "docbyte: vault-notenant client");
    CHECK(token_string(c) == NULL, "docbyte: vault-notenant token refused");
    CHECK(tw_last_error_code() == TW_ERR_MISSING_CLAIM, "docbyte: TW_ERR_MISSING_CLAIM");
    CHECK(tw_contains(tw_last_error_message(), "`tenant`"), "docbyte: message names `tenant`");
    tw_client_free(c);
    tw_options_free(o);
}

/* A resource server's check of access tokens from Keycloak (tw_client_verify_access_token):
 * the claims come back; a wrong audience, a role not granted, an issuer the token does not
 * carry are TW_ERR_INVALID_TOKEN naming the rule (never the token); a missing claim is
 * TW_ERR_MISSING_CLAIM; NULL and bad UTF-8 arguments are refused before anything is checked,
 * and the out-parameter is written only on success. */
static void test_verify(void) {
    tw_options *o = opts("vion-service", "TW_VION_SERVICE_SECRET");
    tw_client *c = NULL, *split = NULL;
    char *claims = NULL, *sentinel = (char *)"untouched";
    char token[8192];
    const char *need_claims[1], *need_roles[1], *bad_utf8 = "\xff\xfe";
    const char *null_claims[1] = {NULL};

    tw_options_set_leeway_ms(o, 5000);
    CHECK_RC(tw_client_from_keycloak(kc, "vion", o, &c), TW_OK, "verify: vion-service client");
    if (token_string(c) == NULL) {
        CHECK(0, "verify: a vion-service token");
        goto out;
    }
    snprintf(token, sizeof token, "%s", token_string(c));

    CHECK_RC(tw_client_verify_access_token(c, token, NULL, NULL, 0, NULL, 0, &claims), TW_OK,
             "verify: Keycloak's access token verifies");
    CHECK(tw_contains(claims, "\"iss\"") && tw_contains(claims, "/realms/vion") &&
              tw_contains(claims, "\"azp\":\"vion-service\""),
          "verify: the verified claims as JSON");
    tw_string_free(claims);
    claims = NULL;
    need_claims[0] = "azp";
    CHECK_RC(tw_client_verify_access_token(c, token, NULL, need_claims, 1, NULL, 0, &claims), TW_OK,
             "verify: a present required claim");
    tw_string_free(claims);

    claims = sentinel;
    CHECK_RC(tw_client_verify_access_token(c, token, "billing-api", NULL, 0, NULL, 0, &claims),
             TW_ERR_INVALID_TOKEN, "verify: wrong audience -> TW_ERR_INVALID_TOKEN");
    CHECK(tw_contains(tw_last_error_message(), "`aud`") && tw_contains(tw_last_error_message(), "billing-api"),
          "verify: the message names the audience rule: %s", tw_last_error_message());
    CHECK(!tw_contains(tw_last_error_message(), token), "verify: the message does not hold the token");
    CHECK(claims == sentinel, "verify: out-parameter untouched on failure");
    CHECK(tw_streq(tw_result_name(TW_ERR_INVALID_TOKEN), "invalid_token"), "verify: result name invalid_token");

    need_claims[0] = "tenant";
    CHECK_RC(tw_client_verify_access_token(c, token, NULL, need_claims, 1, NULL, 0, &claims),
             TW_ERR_MISSING_CLAIM, "verify: a missing required claim -> TW_ERR_MISSING_CLAIM");
    CHECK(tw_contains(tw_last_error_message(), "tenant"), "verify: the message names the claim");
    need_roles[0] = "no-such-role";
    CHECK_RC(tw_client_verify_access_token(c, token, NULL, NULL, 0, need_roles, 1, &claims),
             TW_ERR_INVALID_TOKEN, "verify: a role not granted -> TW_ERR_INVALID_TOKEN");
    CHECK(tw_contains(tw_last_error_message(), "no-such-role"), "verify: the message names the role");
    CHECK_RC(tw_client_verify_access_token(c, "not-a-jwt", NULL, NULL, 0, NULL, 0, &claims),
             TW_ERR_INVALID_TOKEN, "verify: not a JWT -> TW_ERR_INVALID_TOKEN");

    /* Arguments. */
    CHECK_RC(tw_client_verify_access_token(NULL, token, NULL, NULL, 0, NULL, 0, &claims), TW_ERR_NULL_ARGUMENT,
             "verify: NULL client");
    CHECK_RC(tw_client_verify_access_token(c, NULL, NULL, NULL, 0, NULL, 0, &claims), TW_ERR_NULL_ARGUMENT,
             "verify: NULL token");
    CHECK(tw_contains(tw_last_error_message(), "`token`"), "verify: the message names the argument");
    CHECK_RC(tw_client_verify_access_token(c, token, NULL, NULL, 0, NULL, 0, NULL), TW_ERR_NULL_ARGUMENT,
             "verify: NULL out-parameter");
    CHECK_RC(tw_client_verify_access_token(c, token, NULL, NULL, 1, NULL, 0, &claims), TW_ERR_NULL_ARGUMENT,
             "verify: NULL claims array with a length");
    CHECK_RC(tw_client_verify_access_token(c, token, NULL, null_claims, 1, NULL, 0, &claims),
             TW_ERR_NULL_ARGUMENT, "verify: a NULL claim name");
    CHECK(tw_contains(tw_last_error_message(), "required_claims[0]"), "verify: names required_claims[0]");
    CHECK_RC(tw_client_verify_access_token(c, token, bad_utf8, NULL, 0, NULL, 0, &claims), TW_ERR_INVALID_UTF8,
             "verify: audience not UTF-8");
    CHECK_RC(tw_client_verify_access_token(c, bad_utf8, NULL, NULL, 0, NULL, 0, &claims), TW_ERR_INVALID_UTF8,
             "verify: token not UTF-8");
    CHECK(claims == sentinel, "verify: out-parameter untouched by every failure");
    CHECK_RC(tw_options_set_expected_issuer(NULL, "x"), TW_ERR_NULL_ARGUMENT, "expected issuer: NULL options");
    CHECK_RC(tw_options_set_expected_issuer(o, NULL), TW_ERR_NULL_ARGUMENT, "expected issuer: NULL issuer");
    CHECK_RC(tw_options_set_expected_issuer(o, bad_utf8), TW_ERR_INVALID_UTF8, "expected issuer: not UTF-8");
    CHECK_RC(tw_options_set_leeway_ms(NULL, 1), TW_ERR_NULL_ARGUMENT, "leeway: NULL options");
    CHECK_RC(tw_client_userinfo(NULL, &claims), TW_ERR_NULL_ARGUMENT, "userinfo: NULL client");
    CHECK_RC(tw_client_userinfo(c, NULL), TW_ERR_NULL_ARGUMENT, "userinfo: NULL out");
    CHECK_RC(tw_token_id_token_claims_json(NULL, &claims), TW_ERR_NULL_ARGUMENT, "ID token claims: NULL token");

    /* Keycloak's issuer split: a client told to expect the public issuer refuses tokens that
     * name another, and says which it expected. */
    CHECK_RC(tw_options_set_expected_issuer(o, "https://sso.example.com/realms/vion"), TW_OK,
             "expected issuer set");
    CHECK_RC(tw_client_from_keycloak(kc, "vion", o, &split), TW_OK, "verify: client with an expected issuer");
    CHECK_RC(tw_client_verify_access_token(split, token, NULL, NULL, 0, NULL, 0, &claims), TW_ERR_INVALID_TOKEN,
             "verify: an issuer other than the expected one -> TW_ERR_INVALID_TOKEN");
    CHECK(tw_contains(tw_last_error_message(), "https://sso.example.com/realms/vion"),
          "verify: the message names the expected issuer: %s", tw_last_error_message());
    CHECK(claims == sentinel, "verify: out-parameter still untouched");
out:
    tw_client_free(split);
    tw_client_free(c);
    tw_options_free(o);
}

/* Runs tests/keycloak/kc_login.py on the login URL; returns the callback URL (static buffer) or NULL. */
static const char *browser_login(const char *url) {
    static char callback[4096];
    char cmd[8192];
    FILE *p;
    size_t n;
    snprintf(cmd, sizeof cmd, "%s '%s' vion-user '%s'", tw_env("TW_KC_LOGIN"), url,
             tw_env("TW_VION_USER_PASSWORD"));
    p = popen(cmd, "r");
    if (p == NULL) return NULL;
    n = fread(callback, 1, sizeof callback - 1, p);
    callback[n] = '\0';
    if (pclose(p) != 0 || n == 0) return NULL;
    callback[strcspn(callback, "\r\n")] = '\0';
    return callback;
}

/* A session renews the way it began: a user's session of a confidential client that also has
 * service accounts (a throw-away client made through the admin API) answers
 * TW_ERR_LOGIN_REQUIRED once its refresh token is refused, and never turns into the service
 * account's token (grant_type=client_credentials). */
static void test_a_users_session_never_turns_into_the_service_account(void) {
    char cmd[4096], line[512], id[128] = "", secret[128] = "", at[8192], buf[8192];
    FILE *p;
    tw_options *o = NULL;
    tw_client *web = NULL, *other = NULL;
    tw_login *login = NULL;
    tw_token *t = NULL;
    char *rt = NULL;
    const char *cb;
    size_t n = 0;

    snprintf(cmd, sizeof cmd, "%s create '%s'", tw_env("TW_KC_CLIENT"), tw_env("TW_KC_ENV_FILE"));
    p = popen(cmd, "r");
    if (p == NULL || fgets(line, sizeof line, p) == NULL || sscanf(line, "%127s %127s", id, secret) != 2) {
        CHECK(0, "session kind: made a client with standard flow and service accounts");
        if (p != NULL) pclose(p);
        return;
    }
    pclose(p);
    tw_options_new(id, &o);
    tw_options_set_secret(o, secret);
    tw_options_set_redirect_uri(o, "http://127.0.0.1:8765/callback");
    tw_options_set_scope(o, "openid");
    CHECK_RC(tw_client_from_keycloak(kc, "vion", o, &web), TW_OK, "session kind: web client");
    CHECK_RC(tw_client_from_keycloak(kc, "vion", o, &other), TW_OK, "session kind: a second instance");
    CHECK_RC(tw_client_login_begin(web, NULL, NULL, NULL, 0, &login), TW_OK, "session kind: login_begin");
    cb = browser_login(tw_login_url(login));
    CHECK(cb != NULL, "session kind: the user logged in");
    if (cb == NULL) goto out;
    CHECK_RC(tw_client_login_finish(web, login, cb, &t), TW_OK, "session kind: code exchange");
    if (t == NULL) goto out;
    CHECK_RC(tw_token_refresh_token(t, &rt), TW_OK, "session kind: the login's refresh token");
    CHECK(rt != NULL, "session kind: the login brought a refresh token");
    CHECK_RC(tw_token_access_token(t, at, sizeof at, &n), TW_OK, "session kind: the login's access token");
    CHECK_RC(tw_client_access_token(web, buf, sizeof buf, &n), TW_OK, "session kind: cached");
    CHECK(tw_streq(buf, at), "session kind: the login's token is the cached one");
    if (rt == NULL) goto out;
    /* Another instance of the app revokes the session's refresh token; this one still holds it. */
    CHECK_RC(tw_client_revoke(other, rt, TW_TOKEN_KIND_REFRESH), TW_OK, "session kind: revoked elsewhere");
    CHECK_RC(tw_client_refresh(web, NULL), TW_ERR_LOGIN_REQUIRED,
             "session kind: a refused refresh token is login_required, not client credentials");
    CHECK_RC(tw_client_access_token(web, buf, sizeof buf, &n), TW_ERR_LOGIN_REQUIRED,
             "session kind: and so is the next token");
    CHECK_RC(tw_client_access_token_after_rejection(web, at, buf, sizeof buf, &n), TW_ERR_LOGIN_REQUIRED,
             "session kind: and a renewal after a 401");
    /* The client may run client credentials (a new client object shows it): it was never tried. */
    CHECK_RC(tw_client_access_token(other, buf, sizeof buf, &n), TW_OK,
             "session kind: the client itself has a service account");
out:
    tw_string_free(rt);
    tw_token_free(t);
    tw_login_free(login);
    tw_client_free(web);
    tw_client_free(other);
    tw_options_free(o);
    snprintf(cmd, sizeof cmd, "%s delete '%s' '%s' >/dev/null 2>&1", tw_env("TW_KC_CLIENT"),
             tw_env("TW_KC_ENV_FILE"), id);
    if (system(cmd) != 0) fprintf(stderr, "note: could not delete client %s\n", id);
}

static void test_vion_login(void) {
    tw_options *o = opts("vion-short", NULL);
    tw_client *c = NULL, *resumed = NULL;
    tw_login *login = NULL;
    tw_token *t = NULL;
    char *s = NULL;
    const char *cb;
    char first[8192], rt[4096];
    struct counter count;
    int calls_before;

    memset(&count, 0, sizeof count);
    pthread_mutex_init(&count.lock, NULL);
    tw_options_set_scope(o, "openid user_impersonation");
    tw_options_set_redirect_uri(o, "http://127.0.0.1:8765/callback");
    tw_options_set_on_token(o, on_token, &count);
    CHECK_RC(tw_client_from_keycloak(kc, "vion", o, &c), TW_OK, "vion-short: public client");
    CHECK_RC(tw_client_login_begin(c, NULL, NULL, NULL, 0, &login), TW_OK, "vion-short: login_begin");
    cb = browser_login(tw_login_url(login));
    CHECK(cb != NULL && tw_contains(cb, "code="), "vion-short: Keycloak redirected with a code");
    if (cb == NULL) goto out;
    CHECK(tw_contains(cb, "iss="), "vion-short: callback carries iss");
    CHECK_RC(tw_client_login_finish(c, login, cb, &t), TW_OK, "vion-short: code exchange (PKCE)");
    CHECK_RC(tw_token_refresh_token(t, &s), TW_OK, "vion-short: refresh token");
    CHECK(s != NULL, "vion-short: login brought a refresh token");
    tw_string_free(s);
    CHECK_RC(tw_token_id_token(t, &s), TW_OK, "vion-short: ID token");
    CHECK(s != NULL, "vion-short: openid brought an ID token");
    tw_string_free(s);
    CHECK_RC(tw_token_id_token_claims_json(t, &s), TW_OK, "vion-short: verified ID-token claims");
    CHECK(tw_contains(s, "\"nonce\"") && tw_contains(s, "\"aud\":\"vion-short\"") &&
              tw_contains(s, "\"preferred_username\":\"vion-user\""),
          "vion-short: ID-token claims carry nonce, aud and the user");
    tw_string_free(s);
    CHECK_RC(tw_client_userinfo(c, &s), TW_OK, "vion-short: userinfo for the logged-in user");
    CHECK(tw_contains(s, "\"preferred_username\":\"vion-user\""), "vion-short: userinfo names the user");
    tw_string_free(s);
    CHECK(count.calls == 1 && count.refresh_token[0] != '\0', "vion-short: hook saw the login's tokens");
    tw_token_free(t);
    snprintf(first, sizeof first, "%s", token_string(c));

    /* 2 s tokens: past expiry the cache renews with the refresh token (no secret to fall back on). */
    calls_before = count.calls;
    sleep_ms(2500);
    CHECK(token_string(c) != NULL, "vion-short: token after expiry");
    CHECK(!tw_streq(token_string(c), first), "vion-short: renewed by refresh token");
    CHECK(count.calls == calls_before + 1, "vion-short: hook saw the renewal (persist point)");
    CHECK_RC(tw_client_refresh(c, NULL), TW_OK, "vion-short: explicit refresh");

    CHECK_RC(tw_client_end_session_url(c, "http://127.0.0.1:8765/callback", &s), TW_OK,
             "vion-short: end-session URL");
    CHECK(tw_contains(s, "/realms/vion/protocol/openid-connect/logout?client_id=vion-short") &&
              tw_contains(s, "id_token_hint=") && tw_contains(s, "post_logout_redirect_uri="),
          "vion-short: end-session URL with id_token_hint");
    tw_string_free(s);

    /* Resume from the refresh token the hook persisted, in a second client. */
    pthread_mutex_lock(&count.lock);
    snprintf(rt, sizeof rt, "%s", count.refresh_token);
    pthread_mutex_unlock(&count.lock);
    tw_options_set_on_token(o, NULL, NULL);
    tw_client_from_keycloak(kc, "vion", o, &resumed);
    CHECK_RC(tw_client_resume(resumed, rt, NULL), TW_OK, "vion-short: resume from a stored refresh token");
    CHECK(token_string(resumed) != NULL, "vion-short: resumed client has a token");
    CHECK_RC(tw_client_token(resumed, &t), TW_OK, "vion-short: resumed token");
    s = NULL;
    tw_token_refresh_token(t, &s);
    CHECK(s != NULL, "vion-short: resumed session keeps a refresh token");
    /* Revoking the refresh token ends the Keycloak session for both clients. */
    CHECK_RC(tw_client_revoke(resumed, s, TW_TOKEN_KIND_REFRESH), TW_OK, "vion-short: revoke refresh token");
    tw_string_free(s);
    tw_token_free(t);
    CHECK_RC(tw_client_refresh(c, NULL), TW_ERR_LOGIN_REQUIRED,
             "vion-short: refresh after the session was revoked needs a login");
    CHECK_RC(tw_client_resume(resumed, rt, NULL), TW_ERR_OAUTH, "vion-short: revoked refresh token");
    CHECK(tw_streq(tw_last_error_oauth_error(), "invalid_grant"), "revoked refresh token: invalid_grant");
    /* Last: the login was spent by its callback; finishing it again sends nothing. */
    CHECK_RC(tw_client_login_finish(c, login, cb, NULL), TW_ERR_LOGIN_REQUIRED,
             "vion-short: a login finishes once");
    CHECK(tw_contains(tw_last_error_message(), "start a new login"), "spent login: says to start a new login");
out:
    tw_login_free(login);
    tw_client_free(resumed);
    tw_client_free(c);
    tw_options_free(o);
    pthread_mutex_destroy(&count.lock);
}

/* 16 threads share an ecoinvent-short client (2 s tokens) through expiries. Keycloak's request
 * count is not visible, so the hook counts token requests; every one must be a token the
 * threads then see (one request per renewal). */
#define THREADS 16
#define MAX_SEEN 64
struct shared {
    tw_client *client;
    double until;
    pthread_mutex_t lock;
    uint64_t seen[MAX_SEEN];
    int nseen;
    long errors;
};

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static void *hammer(void *arg) {
    struct shared *s = arg;
    char buf[4096];
    size_t n;
    uint64_t last = 0;
    while (now_s() < s->until) {
        uint64_t h;
        int i, known = 0;
        if (tw_client_access_token(s->client, buf, sizeof buf, &n) != TW_OK) {
            pthread_mutex_lock(&s->lock);
            s->errors++;
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        h = hash(buf);
        if (h == last) continue;
        last = h;
        pthread_mutex_lock(&s->lock);
        for (i = 0; i < s->nseen; i++) known |= s->seen[i] == h;
        if (!known && s->nseen < MAX_SEEN) s->seen[s->nseen++] = h;
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

static void test_threads(void) {
    tw_options *o = opts("ecoinvent-short", "TW_ECOINVENT_SHORT_SECRET");
    struct counter count;
    struct shared s;
    pthread_t th[THREADS];
    int i;
    double seconds = 5.0;

    memset(&count, 0, sizeof count);
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&count.lock, NULL);
    pthread_mutex_init(&s.lock, NULL);
    tw_options_set_on_token(o, on_token, &count);
    snprintf(token_path, sizeof token_path, "%s/realms/ecoinvent/protocol/openid-connect/token", kc);
    tw_client_from_token_url(token_path, o, &s.client);
    tw_options_free(o);
    s.until = now_s() + seconds;
    for (i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, hammer, &s);
    for (i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    tw_client_free(s.client);
    printf("     ecoinvent-short: %d distinct tokens, %d token requests, %ld errors\n", s.nseen,
           count.calls, s.errors);
    CHECK(s.errors == 0, "16 threads, 2 s tokens: no errors");
    CHECK(s.nseen >= 3, "16 threads: went through expiries (%d tokens)", s.nseen);
    CHECK(count.calls >= s.nseen && count.calls <= s.nseen + 1,
          "16 threads: one token request per renewal (%d requests, %d tokens)", count.calls, s.nseen);
    pthread_mutex_destroy(&count.lock);
    pthread_mutex_destroy(&s.lock);
}

int main(void) {
    kc = tw_env("KC_URL");
    test_ecoinvent();
    test_vion_service();
    test_iopole();
    test_docbyte();
    test_verify();
    test_vion_login();
    test_a_users_session_never_turns_into_the_service_account();
    test_threads();
    return tw_summary();
}
