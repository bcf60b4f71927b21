/* Hostile input: NULL for every pointer parameter, invalid UTF-8, empty strings, buffers of
 * size 0 and 1, double _free of NULL, unknown constants, and out-parameters that must stay
 * untouched on failure. Needs only the loopback token server (TW_LOOPBACK_URL). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include <tokenward.h>

#include "tw_test.h"

static const char BAD_UTF8[] = "\xff\xfe\xfd";
static char base_url[256];
static char token_url[300];

/* A sentinel that out-parameters are set to before a call expected to fail. */
static int sentinel_storage;
#define SENTINEL ((void *)&sentinel_storage)

/* A string setter's three refusals: NULL options, NULL value, invalid UTF-8. */
#define CHECK_STRING_SETTER(setter, o)                                                         \
    do {                                                                                       \
        CHECK_RC(setter(NULL, "a"), TW_ERR_NULL_ARGUMENT, #setter "(NULL options)");          \
        CHECK_RC(setter((o), NULL), TW_ERR_NULL_ARGUMENT, #setter "(NULL)");                  \
        CHECK_RC(setter((o), BAD_UTF8), TW_ERR_INVALID_UTF8, #setter "(bad UTF-8)");          \
    } while (0)

static tw_options *options_for(const char *client_id, const char *secret) {
    tw_options *o = NULL;
    if (tw_options_new(client_id, &o) != TW_OK) return NULL;
    if (secret != NULL) tw_options_set_secret(o, secret);
    return o;
}

static void test_options(void) {
    tw_options *o = SENTINEL;
    CHECK_RC(tw_options_new(NULL, &o), TW_ERR_NULL_ARGUMENT, "tw_options_new(NULL client_id)");
    CHECK(o == SENTINEL, "tw_options_new: out untouched on failure");
    CHECK(tw_contains(tw_last_error_message(), "client_id"), "NULL message names the argument");
    CHECK_RC(tw_options_new("c", NULL), TW_ERR_NULL_ARGUMENT, "tw_options_new(NULL out)");
    CHECK_RC(tw_options_new(BAD_UTF8, &o), TW_ERR_INVALID_UTF8, "tw_options_new(invalid UTF-8)");
    CHECK(o == SENTINEL, "tw_options_new: out untouched on invalid UTF-8");
    CHECK_RC(tw_options_new("", &o), TW_OK, "tw_options_new(\"\") accepted until a client is made");
    tw_options_free(o);

    o = options_for("c1", NULL);
    CHECK(o != NULL, "tw_options_new(\"c1\")");
    /* Every string setter: NULL options, NULL value, invalid UTF-8. */
    CHECK_STRING_SETTER(tw_options_set_secret, o);
    CHECK_STRING_SETTER(tw_options_set_scope, o);
    CHECK_RC(tw_options_set_scope(o, ""), TW_OK, "set_scope(\"\")");
    CHECK_STRING_SETTER(tw_options_set_audience, o);
    CHECK_STRING_SETTER(tw_options_set_redirect_uri, o);
    CHECK_STRING_SETTER(tw_options_add_required_claim, o);
    CHECK_STRING_SETTER(tw_options_set_ca_file, o);
    CHECK_STRING_SETTER(tw_options_set_auth_method_name, o);
    CHECK_RC(tw_options_set_auth_method(NULL, TW_AUTH_METHOD_NONE), TW_ERR_NULL_ARGUMENT,
             "set_auth_method(NULL options)");
    CHECK_RC(tw_options_set_auth_method(o, 99), TW_ERR_INVALID_ARGUMENT, "set_auth_method(99)");
    CHECK_RC(tw_options_set_auth_method_name(o, "basik"), TW_ERR_CONFIG,
             "set_auth_method_name(\"basik\")");
    CHECK(tw_contains(tw_last_error_message(), "`basik`") &&
              tw_contains(tw_last_error_message(), "private_key_jwt"),
          "an unknown auth method name is quoted beside the known ones");
    CHECK_RC(tw_options_set_auth_method_name(o, "client_secret_basic"), TW_OK,
             "set_auth_method_name(\"client_secret_basic\")");
    CHECK_RC(tw_options_set_auth_method_name(o, "auto"), TW_OK, "set_auth_method_name(\"auto\")");
    CHECK_RC(tw_options_set_trust(NULL, TW_TRUST_WEBPKI), TW_ERR_NULL_ARGUMENT,
             "set_trust(NULL options)");
    CHECK_RC(tw_options_set_trust(o, 7), TW_ERR_INVALID_ARGUMENT, "set_trust(7)");
    CHECK_RC(tw_options_set_timeout_ms(NULL, 1), TW_ERR_NULL_ARGUMENT, "set_timeout_ms(NULL)");
    CHECK_RC(tw_options_set_connect_timeout_ms(NULL, 1), TW_ERR_NULL_ARGUMENT,
             "set_connect_timeout_ms(NULL)");
    CHECK_RC(tw_options_set_refresh_margin_ms(NULL, 1), TW_ERR_NULL_ARGUMENT,
             "set_refresh_margin_ms(NULL)");
    CHECK_RC(tw_options_set_proxy_from_env(NULL, false), TW_ERR_NULL_ARGUMENT,
             "set_proxy_from_env(NULL)");
    CHECK_RC(tw_options_set_on_token(NULL, NULL, NULL), TW_ERR_NULL_ARGUMENT,
             "set_on_token(NULL options)");
    CHECK_RC(tw_options_set_on_token(o, NULL, NULL), TW_OK, "set_on_token(NULL callback) removes");
    tw_options_free(o);
    tw_options_free(NULL);
    tw_options_free(NULL);
    CHECK(1, "tw_options_free(NULL) twice");
}

static void test_constructors(void) {
    tw_options *o = options_for("c1", "s1");
    tw_client *c = SENTINEL;
    tw_param values[2] = {{"tenant", "acme"}, {"port", "1"}};
    tw_param bad_values[1] = {{NULL, "x"}};

    CHECK_RC(tw_client_from_token_url(NULL, o, &c), TW_ERR_NULL_ARGUMENT, "from_token_url(NULL url)");
    CHECK_RC(tw_client_from_token_url(token_url, NULL, &c), TW_ERR_NULL_ARGUMENT,
             "from_token_url(NULL options)");
    CHECK_RC(tw_client_from_token_url(token_url, o, NULL), TW_ERR_NULL_ARGUMENT,
             "from_token_url(NULL out)");
    CHECK_RC(tw_client_from_token_url(BAD_UTF8, o, &c), TW_ERR_INVALID_UTF8,
             "from_token_url(bad UTF-8)");
    CHECK_RC(tw_client_from_token_url("", o, &c), TW_ERR_CONFIG, "from_token_url(\"\")");
    CHECK_RC(tw_client_from_token_url("http://auth.example.com/token", o, &c), TW_ERR_INSECURE_URL,
             "from_token_url(plain http, not loopback)");
    CHECK(c == SENTINEL, "constructors leave out untouched on failure");

    CHECK_RC(tw_client_from_keycloak(NULL, "r", o, &c), TW_ERR_NULL_ARGUMENT, "from_keycloak(NULL base)");
    CHECK_RC(tw_client_from_keycloak(base_url, NULL, o, &c), TW_ERR_NULL_ARGUMENT,
             "from_keycloak(NULL realm)");
    CHECK_RC(tw_client_from_keycloak(base_url, "r", NULL, &c), TW_ERR_NULL_ARGUMENT,
             "from_keycloak(NULL options)");
    CHECK_RC(tw_client_from_keycloak(base_url, "r", o, NULL), TW_ERR_NULL_ARGUMENT,
             "from_keycloak(NULL out)");
    CHECK_RC(tw_client_from_keycloak(base_url, BAD_UTF8, o, &c), TW_ERR_INVALID_UTF8,
             "from_keycloak(bad UTF-8 realm)");
    CHECK_RC(tw_client_from_keycloak(base_url, "", o, &c), TW_ERR_CONFIG, "from_keycloak(\"\" realm)");
    CHECK_RC(tw_client_from_keycloak(base_url, "a/b", o, &c), TW_ERR_CONFIG,
             "from_keycloak(realm with /)");

    CHECK_RC(tw_client_from_template(NULL, values, 1, o, &c), TW_ERR_NULL_ARGUMENT,
             "from_template(NULL template)");
    CHECK_RC(tw_client_from_template("http://127.0.0.1/realms/{tenant}", NULL, 1, o, &c),
             TW_ERR_NULL_ARGUMENT, "from_template(NULL values, len 1)");
    CHECK_RC(tw_client_from_template("http://127.0.0.1/realms/{tenant}", bad_values, 1, o, &c),
             TW_ERR_NULL_ARGUMENT, "from_template(value with NULL name)");
    CHECK(tw_contains(tw_last_error_message(), "values[0].name"), "message names values[0].name");
    CHECK_RC(tw_client_from_template("http://127.0.0.1/realms/{tenant}", NULL, 0, o, &c),
             TW_ERR_CONFIG, "from_template(placeholder without value)");
    CHECK(tw_contains(tw_last_error_message(), "{tenant}"), "message names the placeholder");
    CHECK_RC(tw_client_from_template("http://127.0.0.1/realms/{tenant}", values, 2, o, &c),
             TW_ERR_CONFIG, "from_template(value without placeholder)");
    CHECK(tw_contains(tw_last_error_message(), "port"), "message names the extra value");
    CHECK_RC(tw_client_from_template(BAD_UTF8, values, 1, o, &c), TW_ERR_INVALID_UTF8,
             "from_template(bad UTF-8)");
    CHECK(c == SENTINEL, "from_template leaves out untouched on failure");

    CHECK_RC(tw_client_discover(NULL, o, &c), TW_ERR_NULL_ARGUMENT, "discover(NULL issuer)");
    CHECK_RC(tw_client_discover(base_url, NULL, &c), TW_ERR_NULL_ARGUMENT, "discover(NULL options)");
    CHECK_RC(tw_client_discover(base_url, o, NULL), TW_ERR_NULL_ARGUMENT, "discover(NULL out)");
    CHECK_RC(tw_client_discover("", o, &c), TW_ERR_CONFIG, "discover(\"\")");
    tw_options_free(o);

    /* Configuration refused when the client is made. */
    o = options_for("", "s1");
    CHECK_RC(tw_client_from_token_url(token_url, o, &c), TW_ERR_CONFIG, "empty client id");
    tw_options_free(o);
    o = options_for("c1", "");
    CHECK_RC(tw_client_from_token_url(token_url, o, &c), TW_ERR_CONFIG, "empty secret");
    tw_options_free(o);
    o = options_for("c1", NULL);
    tw_options_set_auth_method(o, TW_AUTH_METHOD_CLIENT_SECRET_BASIC);
    CHECK_RC(tw_client_from_token_url(token_url, o, &c), TW_ERR_CONFIG, "basic auth without secret");
    tw_options_free(o);
    o = options_for("c1", "s1");
    tw_options_set_timeout_ms(o, 0);
    CHECK_RC(tw_client_from_token_url(token_url, o, &c), TW_ERR_CONFIG, "timeout 0");
    tw_options_free(o);
    o = options_for("c1", "s1");
    tw_options_set_ca_file(o, "/nonexistent/ca.pem");
    CHECK_RC(tw_client_from_token_url(token_url, o, &c), TW_ERR_CONFIG, "missing CA file");
    tw_options_free(o);
    o = options_for("c1", "s1");
    tw_options_set_ca_file(o, "");
    CHECK_RC(tw_client_from_token_url(token_url, o, &c), TW_ERR_CONFIG, "empty CA file path");
    tw_options_free(o);
    o = options_for("c1", "s1");
    tw_options_set_redirect_uri(o, "http://evil.example/cb");
    CHECK_RC(tw_client_from_token_url(token_url, o, &c), TW_ERR_INSECURE_URL,
             "plain-http redirect URI");
    tw_options_free(o);
    o = options_for("c1", "s1");
    tw_options_set_scope(o, "ok \"quoted\"");
    CHECK_RC(tw_client_from_token_url(token_url, o, &c), TW_ERR_CONFIG, "scope with a quote");
    tw_options_free(o);
    CHECK(c == SENTINEL, "out untouched after every refused configuration");

    tw_client_free(NULL);
    tw_client_free(NULL);
    CHECK(1, "tw_client_free(NULL) twice");
}

static void test_client_calls(void) {
    tw_options *o = options_for("c1", "s1");
    tw_client *c = NULL;
    char buf[512];
    size_t n = 12345;
    char *s = SENTINEL;
    tw_token *t = SENTINEL;
    tw_login *login = SENTINEL;
    char url[400];

    snprintf(url, sizeof url, "%s/long/token", base_url);
    CHECK_RC(tw_client_from_token_url(url, o, &c), TW_OK, "client for the loopback 'long' endpoint");
    tw_options_free(o);

    CHECK_RC(tw_client_access_token(NULL, buf, sizeof buf, &n), TW_ERR_NULL_ARGUMENT,
             "access_token(NULL client)");
    CHECK_RC(tw_client_access_token(c, buf, sizeof buf, NULL), TW_ERR_NULL_ARGUMENT,
             "access_token(NULL out_len)");
    CHECK_RC(tw_client_access_token(c, NULL, 100, &n), TW_ERR_NULL_ARGUMENT,
             "access_token(NULL buf, len 100)");
    CHECK(n == 12345, "out_len untouched on NULL buf");

    /* Buffers of size 0 and 1, and exactly one byte short. */
    CHECK_RC(tw_client_access_token(c, NULL, 0, &n), TW_ERR_BUFFER_TOO_SMALL,
             "access_token(NULL, 0) asks for the size");
    {
        size_t needed = n;
        char one[1] = {'#'};
        char *exact = NULL;
        CHECK(needed > 40 && needed < 200, "size needed reported (%zu)", needed);
        CHECK_RC(tw_client_access_token(c, buf, 0, &n), TW_ERR_BUFFER_TOO_SMALL, "buffer of size 0");
        CHECK_RC(tw_client_access_token(c, one, 1, &n), TW_ERR_BUFFER_TOO_SMALL, "buffer of size 1");
        CHECK(one[0] == '#', "size-1 buffer untouched");
        CHECK(n == needed, "size-1 call reports the same size");
        exact = malloc(needed);
        memset(exact, '#', needed);
        CHECK_RC(tw_client_access_token(c, exact, needed - 1, &n), TW_ERR_BUFFER_TOO_SMALL,
                 "buffer one byte short");
        CHECK(exact[0] == '#', "short buffer untouched");
        CHECK_RC(tw_client_access_token(c, exact, needed, &n), TW_OK, "buffer of exactly the size");
        CHECK(n == needed - 1 && exact[needed - 1] == '\0' && strlen(exact) == n,
              "token copied with its NUL, length without");
        CHECK(strncmp(exact, "long-", 5) == 0, "a token from the server");
        CHECK_RC(tw_client_access_token(c, buf, sizeof buf, &n), TW_OK, "access_token again");
        CHECK(tw_streq(buf, exact), "cache hit: the same token");
        free(exact);
    }

    {
        /* The variant that also says for how long the same token would be returned, and
           from which generation of the cache. */
        uint64_t fresh = 7, gen = 7, gen_now = 7, gen_after = 7;
        CHECK_RC(tw_client_access_token_view(NULL, buf, sizeof buf, &n, &fresh, &gen), TW_ERR_NULL_ARGUMENT,
                 "access_token_view(NULL client)");
        CHECK_RC(tw_client_access_token_view(c, buf, sizeof buf, NULL, &fresh, &gen), TW_ERR_NULL_ARGUMENT,
                 "access_token_view(NULL out_len)");
        CHECK_RC(tw_client_access_token_view(c, buf, sizeof buf, &n, NULL, &gen), TW_ERR_NULL_ARGUMENT,
                 "access_token_view(NULL out_fresh_for_ns)");
        CHECK_RC(tw_client_access_token_view(c, buf, sizeof buf, &n, &fresh, NULL), TW_ERR_NULL_ARGUMENT,
                 "access_token_view(NULL out_generation)");
        CHECK(fresh == 7 && gen == 7, "outputs untouched on failure");
        CHECK_RC(tw_client_access_token_view(c, buf, 1, &n, &fresh, &gen), TW_ERR_BUFFER_TOO_SMALL,
                 "access_token_view(buffer of size 1)");
        CHECK(fresh == 7 && gen == 7, "outputs untouched when the buffer is too small");
        CHECK_RC(tw_client_access_token_view(c, buf, sizeof buf, &n, &fresh, &gen), TW_OK, "access_token_view");
        CHECK(fresh > 0 && fresh <= 3600ull * 1000000000ull,
              "a fresh token: fresh for a duration from now, not an absolute deadline");
        CHECK_RC(tw_client_generation(NULL, &gen_now), TW_ERR_NULL_ARGUMENT, "generation(NULL client)");
        CHECK_RC(tw_client_generation(c, NULL), TW_ERR_NULL_ARGUMENT, "generation(NULL out)");
        CHECK_RC(tw_client_generation(c, &gen_now), TW_OK, "generation");
        CHECK(gen_now == gen && gen > 0, "the view's generation is the cache's");
        CHECK_RC(tw_client_refresh(c, NULL), TW_OK, "refresh");
        CHECK_RC(tw_client_generation(c, &gen_after), TW_OK, "generation after a refresh");
        CHECK(gen_after > gen, "a refresh changes the session: a newer generation");
        CHECK_RC(tw_client_access_token_view(c, buf, sizeof buf, &n, &fresh, &gen), TW_OK, "view after refresh");
        CHECK(gen == gen_after, "the view after the refresh carries its generation");
        CHECK(strncmp(buf, "long-", 5) == 0, "the same cached token");
    }

    CHECK_RC(tw_client_authorization_header(NULL, buf, sizeof buf, &n), TW_ERR_NULL_ARGUMENT,
             "authorization_header(NULL client)");
    CHECK_RC(tw_client_authorization_header(c, buf, sizeof buf, NULL), TW_ERR_NULL_ARGUMENT,
             "authorization_header(NULL out_len)");
    CHECK_RC(tw_client_authorization_header(c, buf, 1, &n), TW_ERR_BUFFER_TOO_SMALL,
             "authorization_header(size 1)");
    CHECK_RC(tw_client_authorization_header(c, buf, sizeof buf, &n), TW_OK, "authorization_header");
    CHECK(strncmp(buf, "Bearer long-", 12) == 0 && strlen(buf) == n, "Bearer header");

    CHECK_RC(tw_client_token(NULL, &t), TW_ERR_NULL_ARGUMENT, "token(NULL client)");
    CHECK_RC(tw_client_token(c, NULL), TW_ERR_NULL_ARGUMENT, "token(NULL out)");
    CHECK(t == SENTINEL, "token out untouched");
    CHECK_RC(tw_client_claims_json(NULL, &s), TW_ERR_NULL_ARGUMENT, "claims_json(NULL client)");
    CHECK_RC(tw_client_claims_json(c, NULL), TW_ERR_NULL_ARGUMENT, "claims_json(NULL out)");
    CHECK_RC(tw_client_claims_json(c, &s), TW_OK, "claims_json of an opaque token");
    CHECK(s == NULL, "claims of an opaque token: NULL");
    CHECK_RC(tw_client_refresh(NULL, NULL), TW_ERR_NULL_ARGUMENT, "refresh(NULL client)");
    CHECK_RC(tw_client_access_token_after_rejection(NULL, "t", buf, sizeof buf, &n),
             TW_ERR_NULL_ARGUMENT, "after_rejection(NULL client)");
    CHECK_RC(tw_client_access_token_after_rejection(c, NULL, buf, sizeof buf, &n),
             TW_ERR_NULL_ARGUMENT, "after_rejection(NULL rejected)");
    CHECK_RC(tw_client_access_token_after_rejection(c, BAD_UTF8, buf, sizeof buf, &n),
             TW_ERR_INVALID_UTF8, "after_rejection(bad UTF-8)");
    CHECK_RC(tw_client_access_token_after_rejection(c, "t", buf, sizeof buf, NULL),
             TW_ERR_NULL_ARGUMENT, "after_rejection(NULL out_len)");
    CHECK_RC(tw_client_resume(NULL, "rt", NULL), TW_ERR_NULL_ARGUMENT, "resume(NULL client)");
    CHECK_RC(tw_client_resume(c, NULL, NULL), TW_ERR_NULL_ARGUMENT, "resume(NULL token)");
    CHECK_RC(tw_client_resume(c, BAD_UTF8, NULL), TW_ERR_INVALID_UTF8, "resume(bad UTF-8)");
    CHECK_RC(tw_client_revoke(NULL, "t", TW_TOKEN_KIND_ACCESS), TW_ERR_NULL_ARGUMENT,
             "revoke(NULL client)");
    CHECK_RC(tw_client_revoke(c, NULL, TW_TOKEN_KIND_ACCESS), TW_ERR_NULL_ARGUMENT,
             "revoke(NULL token)");
    CHECK_RC(tw_client_revoke(c, BAD_UTF8, TW_TOKEN_KIND_ACCESS), TW_ERR_INVALID_UTF8,
             "revoke(bad UTF-8)");
    CHECK_RC(tw_client_revoke(c, "t", 5), TW_ERR_INVALID_ARGUMENT, "revoke(kind 5)");
    CHECK_RC(tw_client_revoke(c, "t", TW_TOKEN_KIND_ACCESS), TW_ERR_CONFIG,
             "revoke without a revocation endpoint");
    CHECK(tw_contains(tw_last_error_message(), "revocation endpoint"), "message names the endpoint");
    s = SENTINEL;
    CHECK_RC(tw_client_introspect(NULL, "t", TW_TOKEN_KIND_ACCESS, &s), TW_ERR_NULL_ARGUMENT,
             "introspect(NULL client)");
    CHECK_RC(tw_client_introspect(c, "t", TW_TOKEN_KIND_ACCESS, NULL), TW_ERR_NULL_ARGUMENT,
             "introspect(NULL out)");
    CHECK_RC(tw_client_introspect(c, NULL, TW_TOKEN_KIND_ACCESS, &s), TW_ERR_NULL_ARGUMENT,
             "introspect(NULL token)");
    CHECK_RC(tw_client_end_session_url(NULL, NULL, &s), TW_ERR_NULL_ARGUMENT,
             "end_session_url(NULL client)");
    CHECK_RC(tw_client_end_session_url(c, NULL, NULL), TW_ERR_NULL_ARGUMENT,
             "end_session_url(NULL out)");
    CHECK_RC(tw_client_end_session_url(c, BAD_UTF8, &s), TW_ERR_INVALID_UTF8,
             "end_session_url(bad UTF-8)");
    CHECK_RC(tw_client_end_session_url(c, NULL, &s), TW_ERR_CONFIG,
             "end_session_url without an end-session endpoint");
    CHECK(s == SENTINEL, "string out untouched on failure");
    CHECK_RC(tw_client_login_begin(NULL, NULL, NULL, NULL, 0, &login), TW_ERR_NULL_ARGUMENT,
             "login_begin(NULL client)");
    CHECK_RC(tw_client_login_begin(c, "http://127.0.0.1/cb", NULL, NULL, 0, &login), TW_ERR_CONFIG,
             "login_begin without an authorization endpoint");
    CHECK(login == SENTINEL, "login out untouched");

    /* tw_token accessors. */
    t = NULL;
    CHECK_RC(tw_client_token(c, &t), TW_OK, "tw_client_token");
    CHECK_RC(tw_token_access_token(NULL, buf, sizeof buf, &n), TW_ERR_NULL_ARGUMENT,
             "token_access_token(NULL)");
    CHECK_RC(tw_token_access_token(t, buf, sizeof buf, NULL), TW_ERR_NULL_ARGUMENT,
             "token_access_token(NULL out_len)");
    CHECK_RC(tw_token_access_token(t, buf, 0, &n), TW_ERR_BUFFER_TOO_SMALL,
             "token_access_token(size 0)");
    CHECK_RC(tw_token_access_token(t, buf, sizeof buf, &n), TW_OK, "token_access_token");
    CHECK(strncmp(buf, "long-", 5) == 0, "the cached token");
    s = SENTINEL;
    CHECK_RC(tw_token_refresh_token(NULL, &s), TW_ERR_NULL_ARGUMENT, "token_refresh_token(NULL)");
    CHECK_RC(tw_token_refresh_token(t, NULL), TW_ERR_NULL_ARGUMENT, "token_refresh_token(NULL out)");
    CHECK_RC(tw_token_refresh_token(t, &s), TW_OK, "token_refresh_token");
    CHECK(s == NULL, "no refresh token: NULL");
    CHECK_RC(tw_token_id_token(NULL, &s), TW_ERR_NULL_ARGUMENT, "token_id_token(NULL)");
    CHECK_RC(tw_token_id_token(t, NULL), TW_ERR_NULL_ARGUMENT, "token_id_token(NULL out)");
    CHECK_RC(tw_token_scope(NULL, &s), TW_ERR_NULL_ARGUMENT, "token_scope(NULL)");
    CHECK_RC(tw_token_scope(t, NULL), TW_ERR_NULL_ARGUMENT, "token_scope(NULL out)");
    CHECK_RC(tw_token_claims_json(NULL, &s), TW_ERR_NULL_ARGUMENT, "token_claims_json(NULL)");
    CHECK_RC(tw_token_claims_json(t, NULL), TW_ERR_NULL_ARGUMENT, "token_claims_json(NULL out)");
    CHECK_RC(tw_token_extra_json(NULL, &s), TW_ERR_NULL_ARGUMENT, "token_extra_json(NULL)");
    CHECK_RC(tw_token_extra_json(t, NULL), TW_ERR_NULL_ARGUMENT, "token_extra_json(NULL out)");
    CHECK_RC(tw_token_extra_json(t, &s), TW_OK, "token_extra_json");
    CHECK(tw_streq(s, "{}"), "no extra fields: {}");
    tw_string_free(s);
    CHECK(tw_token_expires_in(NULL) == 0, "token_expires_in(NULL) is 0");
    CHECK(tw_token_expires_in(t) == 3600, "token_expires_in");
    CHECK(tw_token_lifetime_ms(NULL) == 0, "token_lifetime_ms(NULL) is 0");
    CHECK(tw_token_lifetime_ms(t) == 3600000, "token_lifetime_ms");
    tw_token_free(t);
    tw_token_free(NULL);
    tw_token_free(NULL);
    CHECK(1, "tw_token_free(NULL) twice");
    tw_string_free(NULL);
    tw_string_free(NULL);
    CHECK(1, "tw_string_free(NULL) twice");
    tw_client_free(c);
}

static void test_login(void) {
    tw_options *o = options_for("vion-spa", NULL);
    tw_client *c = NULL;
    tw_login *login = SENTINEL;
    tw_login *restored = NULL;
    tw_login *forgery_target = NULL;
    tw_param extra[1] = {{"prompt", "login"}};
    tw_param reserved[1] = {{"state", "mine"}};
    tw_param null_value[1] = {{"prompt", NULL}};
    char *json = NULL;
    char cb[600];
    const char *url, *state;
    size_t state_len;

    tw_options_set_scope(o, "openid user_impersonation");
    CHECK_RC(tw_client_from_keycloak("https://auth.test.ecocoa.ch", "vion", o, &c), TW_OK,
             "public client for a Keycloak realm (no network)");
    tw_options_free(o);
    CHECK_RC(tw_client_login_begin(c, NULL, NULL, NULL, 0, &login), TW_ERR_CONFIG,
             "login without a redirect URI");
    CHECK_RC(tw_client_login_begin(c, "http://127.0.0.1:8765/callback", NULL, NULL, 1, &login),
             TW_ERR_NULL_ARGUMENT, "login_begin(NULL extra, len 1)");
    CHECK_RC(tw_client_login_begin(c, "http://127.0.0.1:8765/callback", NULL, null_value, 1, &login),
             TW_ERR_NULL_ARGUMENT, "login_begin(extra with NULL value)");
    CHECK_RC(tw_client_login_begin(c, "http://127.0.0.1:8765/callback", NULL, reserved, 1, &login),
             TW_ERR_CONFIG, "login_begin(reserved extra `state`)");
    CHECK_RC(tw_client_login_begin(c, BAD_UTF8, NULL, NULL, 0, &login), TW_ERR_INVALID_UTF8,
             "login_begin(bad UTF-8 redirect)");
    CHECK_RC(tw_client_login_begin(c, "http://127.0.0.1:8765/callback", NULL, NULL, 0, NULL),
             TW_ERR_NULL_ARGUMENT, "login_begin(NULL out)");
    CHECK(login == SENTINEL, "login out untouched on failure");
    CHECK_RC(tw_client_login_begin(c, "http://127.0.0.1:8765/callback", NULL, extra, 1, &login),
             TW_OK, "login_begin");
    url = tw_login_url(login);
    CHECK(tw_contains(url, "https://auth.test.ecocoa.ch/realms/vion/protocol/openid-connect/auth?"),
          "login URL at the realm's auth endpoint");
    CHECK(tw_contains(url, "code_challenge_method=S256") && tw_contains(url, "prompt=login") &&
              tw_contains(url, "scope=openid+user_impersonation"),
          "login URL has PKCE S256, scope and the extra parameter");
    CHECK(tw_login_url(NULL) == NULL, "tw_login_url(NULL) is NULL");

    CHECK_RC(tw_login_to_json(NULL, &json), TW_ERR_NULL_ARGUMENT, "login_to_json(NULL)");
    CHECK_RC(tw_login_to_json(login, NULL), TW_ERR_NULL_ARGUMENT, "login_to_json(NULL out)");
    CHECK_RC(tw_login_to_json(login, &json), TW_OK, "login_to_json");
    CHECK(tw_contains(json, "code_verifier"), "saved login holds the verifier");
    CHECK_RC(tw_login_from_json(NULL, &restored), TW_ERR_NULL_ARGUMENT, "login_from_json(NULL)");
    CHECK_RC(tw_login_from_json(json, NULL), TW_ERR_NULL_ARGUMENT, "login_from_json(NULL out)");
    CHECK_RC(tw_login_from_json(BAD_UTF8, &restored), TW_ERR_INVALID_UTF8, "login_from_json(bad UTF-8)");
    CHECK_RC(tw_login_from_json("", &restored), TW_ERR_CONFIG, "login_from_json(\"\")");
    CHECK_RC(tw_login_from_json("{}", &restored), TW_ERR_CONFIG, "login_from_json({})");
    CHECK(restored == NULL, "restored untouched on failure");
    CHECK_RC(tw_login_from_json(json, &restored), TW_OK, "login_from_json round trip");
    CHECK(tw_login_url(restored) == NULL, "a restored login has no URL");
    CHECK_RC(tw_login_from_json(json, &forgery_target), TW_OK, "login_from_json, a second copy");
    tw_string_free(json);

    /* Callbacks checked before any network traffic. */
    CHECK_RC(tw_client_login_finish(NULL, login, "http://127.0.0.1:8765/callback?code=x", NULL),
             TW_ERR_NULL_ARGUMENT, "login_finish(NULL client)");
    CHECK_RC(tw_client_login_finish(c, NULL, "http://127.0.0.1:8765/callback?code=x", NULL),
             TW_ERR_NULL_ARGUMENT, "login_finish(NULL login)");
    CHECK_RC(tw_client_login_finish(c, login, NULL, NULL), TW_ERR_NULL_ARGUMENT,
             "login_finish(NULL callback)");
    CHECK_RC(tw_client_login_finish(c, login, BAD_UTF8, NULL), TW_ERR_INVALID_UTF8,
             "login_finish(bad UTF-8)");
    CHECK_RC(tw_client_login_finish(c, login, "", NULL), TW_ERR_CONFIG, "login_finish(\"\")");
    /* A login is spent by its first callback, whatever the outcome (argument errors aside). */
    CHECK_RC(tw_client_login_finish(c, login, "http://127.0.0.1:8765/callback?state=forged&code=x",
                                    NULL),
             TW_ERR_LOGIN_REQUIRED, "a login finished once is spent");
    CHECK(tw_contains(tw_last_error_message(), "start a new login"), "the error says to start a new login");
    json = SENTINEL;
    CHECK_RC(tw_login_to_json(login, &json), TW_ERR_LOGIN_REQUIRED, "a spent login cannot be saved");
    CHECK(json == SENTINEL, "to_json out untouched when spent");
    json = NULL;
    CHECK_RC(tw_client_login_finish(c, forgery_target,
                                    "http://127.0.0.1:8765/callback?state=forged&code=x", NULL),
             TW_ERR_STATE_MISMATCH, "forged state");
    CHECK_RC(tw_client_login_finish(c, forgery_target, "http://127.0.0.1:8765/callback?code=x", NULL),
             TW_ERR_LOGIN_REQUIRED, "a forged callback spends the login");
    state = strstr(url, "&state=");
    CHECK(state != NULL, "login URL has a state");
    if (state != NULL) {
        state += 7;
        state_len = strcspn(state, "&");
        snprintf(cb, sizeof cb,
                 "http://127.0.0.1:8765/callback?error=access_denied&error_description=User+denied&"
                 "state=%.*s",
                 (int)state_len, state);
        CHECK_RC(tw_client_login_finish(c, restored, cb, NULL), TW_ERR_OAUTH,
                 "denied login (restored state)");
        CHECK(tw_streq(tw_last_error_oauth_error(), "access_denied"), "oauth error access_denied");
        CHECK(tw_streq(tw_last_error_oauth_description(), "User denied"), "its description");
        CHECK(tw_last_error_http_status() == 0, "no HTTP status for a callback error");
    }
    {
        char *logout = NULL;
        CHECK_RC(tw_client_end_session_url(c, "https://app.example/bye", &logout), TW_OK,
                 "end_session_url without a session");
        CHECK(tw_contains(logout, "/protocol/openid-connect/logout?client_id=vion-spa") &&
                  tw_contains(logout, "post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye"),
              "end-session URL");
        tw_string_free(logout);
        CHECK_RC(tw_client_end_session_url(c, "http://evil.example/bye", &logout),
                 TW_ERR_INSECURE_URL, "end_session_url(plain http)");
    }
    tw_login_free(login);
    tw_login_free(restored);
    tw_login_free(forgery_target);
    tw_login_free(NULL);
    tw_login_free(NULL);
    CHECK(1, "tw_login_free(NULL) twice");
    tw_client_free(c);
}

static void *other_thread(void *arg) {
    int *seen_empty = arg;
    *seen_empty = tw_last_error_code() == TW_OK && tw_streq(tw_last_error_message(), "") &&
                  tw_last_error_oauth_error() == NULL;
    return NULL;
}

static void test_last_error_and_names(void) {
    tw_options *o = NULL;
    pthread_t th;
    int seen_empty = 0;

    CHECK_RC(tw_options_new(NULL, &o), TW_ERR_NULL_ARGUMENT, "a failure to look at");
    CHECK(tw_last_error_code() == TW_ERR_NULL_ARGUMENT, "tw_last_error_code");
    pthread_create(&th, NULL, other_thread, &seen_empty);
    pthread_join(th, NULL);
    CHECK(seen_empty, "another thread does not see this thread's last error");
    CHECK(tw_last_error_code() == TW_ERR_NULL_ARGUMENT, "a success leaves the last error alone");
    tw_last_error_clear();
    CHECK(tw_last_error_code() == TW_OK && tw_streq(tw_last_error_message(), "") &&
              tw_last_error_oauth_error() == NULL && tw_last_error_oauth_description() == NULL &&
              tw_last_error_http_status() == 0,
          "tw_last_error_clear");

    CHECK(tw_streq(tw_result_name(TW_OK), "ok"), "result name ok");
    CHECK(tw_streq(tw_result_name(TW_ERR_OAUTH), "oauth"), "result name oauth");
    CHECK(tw_streq(tw_result_name(TW_ERR_MISSING_CLAIM), "missing_claim"), "result name missing_claim");
    CHECK(tw_streq(tw_result_name(TW_ERR_PANIC), "panic"), "result name panic");
    CHECK(tw_streq(tw_result_name(TW_ERR_INVALID_TOKEN), "invalid_token"), "result name invalid_token (13)");
    CHECK(tw_streq(tw_result_name(14), "unknown"), "result 14 is unknown (reserved)");
    CHECK(tw_streq(tw_result_name(0xFFFFFFFFu), "unknown"), "result 0xFFFFFFFF is unknown");
    CHECK(tw_version() != NULL && strlen(tw_version()) >= 5, "tw_version: %s", tw_version());
}

/* tw_api_error's arguments. What it makes of each answer: tests/vectors/api_errors.json, run by
 * test_vectors.c. */
static void test_api_error(void) {
    CHECK_RC(tw_api_error(401, NULL, NULL, 5), TW_ERR_NULL_ARGUMENT, "NULL body with a length");
    CHECK_RC(tw_api_error(401, "\xff\xfe", NULL, 0), TW_ERR_INVALID_UTF8, "invalid UTF-8 header");
    CHECK_RC(tw_api_error(401, NULL, NULL, 0), TW_ERR_API, "no body at all is a bare refusal");
}

/* tw_client_from_env: the settings the CLI and Python read, through the core's one reader. */
static void test_from_env(void) {
    tw_client *c = SENTINEL;
    CHECK_RC(tw_client_from_env(NULL, NULL), TW_ERR_NULL_ARGUMENT, "from_env(NULL out)");
    CHECK_RC(tw_client_from_env(BAD_UTF8, &c), TW_ERR_INVALID_UTF8, "from_env(bad UTF-8 profile)");
    CHECK(c == SENTINEL, "from_env: out untouched on invalid UTF-8");

    tw_param none[1] = {{"HOME", "/nonexistent"}};
    CHECK_RC(tw_client_from_env_with(NULL, none, 1, NULL, &c), TW_ERR_CONFIG, "from_env: no provider");
    CHECK(c == SENTINEL, "from_env: out untouched on a configuration error");
    CHECK(tw_contains(tw_last_error_message(), "TOKENWARD_ISSUER"), "no provider: names the variables");
    CHECK_RC(tw_client_from_env_with(NULL, NULL, 1, NULL, &c), TW_ERR_NULL_ARGUMENT,
             "from_env_with(NULL environ, length 1)");

    tw_param two[2] = {{"TOKENWARD_ISSUER", "https://a.example"}, {"TOKENWARD_TOKEN_URL", "https://b.example/t"}};
    CHECK_RC(tw_client_from_env_with(NULL, two, 2, NULL, &c), TW_ERR_CONFIG, "from_env: two providers");
    CHECK(tw_contains(tw_last_error_message(), "2 ways"), "two providers: says so");

    tw_param env[3] = {{"TOKENWARD_TOKEN_URL", token_url}, {"TOKENWARD_CLIENT_ID", "c9"},
                       {"TOKENWARD_CLIENT_SECRET", "s1"}};
    CHECK_RC(tw_client_from_env_with("nope", env, 3, NULL, &c), TW_ERR_CONFIG,
             "from_env: a profile without a profiles file");
    CHECK(c == SENTINEL, "from_env: out untouched without a profiles file");
    tw_options *o = options_for("c1", NULL);
    CHECK_RC(tw_client_from_env_with(NULL, env, 3, o, &c), TW_OK, "from_env_with: environment + options");
    tw_options_free(o);
    if (c != SENTINEL && c != NULL) {
        char *id = NULL;
        CHECK_RC(tw_client_client_id(c, &id), TW_OK, "tw_client_client_id");
        CHECK(id && strcmp(id, "c1") == 0, "the options' client id wins over TOKENWARD_CLIENT_ID");
        tw_string_free(id);
        tw_client_free(c);
    }
    CHECK_RC(tw_client_client_id(NULL, NULL), TW_ERR_NULL_ARGUMENT, "tw_client_client_id(NULL)");
}

int main(void) {
    snprintf(base_url, sizeof base_url, "%s", tw_env("TW_LOOPBACK_URL"));
    snprintf(token_url, sizeof token_url, "%s/long/token", base_url);
    test_options();
    test_constructors();
    test_client_calls();
    test_login();
    test_last_error_and_names();
    test_api_error();
    test_from_env();
    return tw_summary();
}
