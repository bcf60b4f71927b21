/* Issue 17's grants against the real Keycloak harness (tests/keycloak, realm vion): a device
 * login approved on Keycloak's device page (tests/keycloak/kc_device.py plays the user), with
 * PKCE; one refused (access_denied) and one cancelled from another thread; token exchange to
 * vion-service; logout; private_key_jwt with the RSA and EC test keys; client_secret_jwt. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include <tokenward.h>

#include "tw_test.h"

static const char *kc;

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* Runs tests/keycloak/kc_device.py: the user types the code and logs in (or refuses). */
static int user_answers(const char *user_code, int accept) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s '%s' vion '%s' vion-user '%s'%s", tw_env("TW_KC_DEVICE"), kc,
             user_code, tw_env("TW_VION_USER_PASSWORD"), accept ? "" : " deny");
    return system(cmd) == 0;
}

static tw_client *device_client(void) {
    tw_options *o = NULL;
    tw_client *c = NULL;
    tw_options_new("vion-device", &o);
    tw_options_set_scope(o, "openid offline_access");
    tw_client_from_keycloak(kc, "vion", o, &c);
    tw_options_free(o);
    return c;
}

static void *cancel_later(void *device) {
    sleep_ms(1500);
    tw_device_cancel(device);
    return NULL;
}

static void test_device_exchange_and_logout(void) {
    tw_client *c = device_client(), *svc = NULL;
    tw_device *d = NULL;
    tw_token *t = NULL, *ex = NULL;
    tw_options *o = NULL;
    char at[8192], buf[8192];
    char *rt = NULL;
    size_t n = 0;
    CHECK(c != NULL, "device: client for vion-device");
    CHECK_RC(tw_client_device_begin(c, NULL, true, &d), TW_OK, "device: begin (PKCE)");
    if (d == NULL) goto out;
    CHECK(strlen(tw_device_user_code(d)) == 9, "device: user code %s", tw_device_user_code(d));
    CHECK(tw_contains(tw_device_verification_uri(d), "/realms/vion/device"), "device: verification URI");
    CHECK(tw_contains(tw_device_verification_uri_complete(d), tw_device_user_code(d)),
          "device: complete URI holds the code");
    CHECK(tw_device_interval(d) >= 1 && tw_device_expires_in(d) > 60, "device: interval and expiry");
    CHECK(user_answers(tw_device_user_code(d), 1), "device: approved on Keycloak's pages");
    CHECK_RC(tw_client_device_wait(c, d, &t), TW_OK, "device: wait returns the token");
    CHECK_RC(tw_client_access_token(c, at, sizeof at, &n), TW_OK, "device: the login is cached");
    CHECK_RC(tw_token_refresh_token(t, &rt), TW_OK, "device: a refresh token");
    CHECK_RC(tw_client_refresh(c, NULL), TW_OK, "device: renews by refresh token");
    CHECK_RC(tw_client_access_token(c, at, sizeof at, &n), TW_OK, "device: the renewed token");

    /* Token exchange: vion-exchange trades the user's token for one for vion-service. */
    tw_options_new("vion-exchange", &o);
    tw_options_set_secret(o, tw_env("TW_VION_EXCHANGE_SECRET"));
    CHECK_RC(tw_client_from_keycloak(kc, "vion", o, &svc), TW_OK, "exchange: client");
    CHECK_RC(tw_client_exchange_token(svc, at, "vion-service", NULL, TW_TOKEN_KIND_ACCESS, &ex), TW_OK,
             "exchange: to vion-service");
    CHECK_RC(tw_client_exchange_token(svc, at, "vion-web", NULL, TW_TOKEN_KIND_ACCESS, &ex), TW_ERR_OAUTH,
             "exchange: an audience out of reach is refused (%s)", tw_last_error_oauth_error());
    CHECK_RC(tw_client_exchange_token(svc, at, NULL, NULL, 7, &ex), TW_ERR_INVALID_ARGUMENT,
             "exchange: an unknown requested type");
    if (ex != NULL) {
        CHECK_RC(tw_token_access_token(ex, buf, sizeof buf, &n), TW_OK, "exchange: the token");
        CHECK(strcmp(buf, at) != 0, "exchange: a new token");
    }

    /* Logout: the session ends, its refresh token no longer renews. */
    if (rt != NULL) {
        CHECK_RC(tw_client_logout(c, rt), TW_OK, "logout: session ended, token revoked");
        CHECK_RC(tw_client_access_token(c, at, sizeof at, &n), TW_ERR_LOGIN_REQUIRED,
                 "logout: the cache is empty");
    }
out:
    tw_string_free(rt);
    tw_token_free(ex);
    tw_token_free(t);
    tw_device_free(d);
    tw_client_free(svc);
    tw_options_free(o);
    tw_client_free(c);
}

static void test_device_denied_and_cancelled(void) {
    tw_client *c = device_client();
    tw_device *d = NULL;
    pthread_t th;
    CHECK_RC(tw_client_device_begin(c, "openid", false, &d), TW_OK, "device: begin (no PKCE)");
    if (d != NULL) {
        CHECK(user_answers(tw_device_user_code(d), 0), "device: refused on Keycloak's consent page");
        CHECK_RC(tw_client_device_wait(c, d, NULL), TW_ERR_OAUTH, "device: refused");
        CHECK(tw_streq(tw_last_error_oauth_error(), "access_denied"), "device: access_denied");
        tw_device_free(d);
        d = NULL;
    }
    CHECK_RC(tw_client_device_begin(c, "openid", false, &d), TW_OK, "device: begin again");
    if (d != NULL) {
        pthread_create(&th, NULL, cancel_later, d);
        CHECK_RC(tw_client_device_wait(c, d, NULL), TW_ERR_LOGIN_REQUIRED, "device: cancelled from a thread");
        pthread_join(th, NULL);
        tw_device_free(d);
    }
    CHECK_RC(tw_client_device_begin(NULL, NULL, false, &d), TW_ERR_NULL_ARGUMENT, "device: NULL client");
    CHECK(tw_device_user_code(NULL) == NULL && tw_device_interval(NULL) == 0, "device: NULL getters");
    tw_device_cancel(NULL);
    tw_device_free(NULL);
    tw_client_free(c);
}

static void test_signed_jwt_client_auth(void) {
    static const char *keys[][2] = {{"vion-jwt-rsa.pem", "vion-jwt-rsa"}, {"vion-jwt-ec.pem", "vion-jwt-ec"}};
    char path[1024], at[8192];
    size_t n = 0, i;
    tw_options *o = NULL;
    tw_client *c = NULL;
    for (i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/tests/keycloak/keys/%s", tw_env("TW_ROOT"), keys[i][0]);
        tw_options_new("vion-jwt", &o);
        CHECK_RC(tw_options_set_private_key_file(o, path, keys[i][1]), TW_OK, "private_key_jwt: %s", keys[i][0]);
        CHECK_RC(tw_client_from_keycloak(kc, "vion", o, &c), TW_OK, "private_key_jwt: client");
        CHECK_RC(tw_client_access_token(c, at, sizeof at, &n), TW_OK, "private_key_jwt: token (%s)", keys[i][1]);
        tw_client_free(c);
        c = NULL;
        tw_options_free(o);
    }
    tw_options_new("vion-jwt", &o);
    CHECK_RC(tw_options_set_private_key_file(o, "/nonexistent.pem", NULL), TW_ERR_CONFIG, "private_key_jwt: missing file");
    CHECK(tw_contains(tw_last_error_message(), "cannot read the private key file"), "private_key_jwt: says which");
    CHECK_RC(tw_options_set_private_key_pem(o, "not a key", NULL), TW_ERR_CONFIG, "private_key_jwt: not PEM");
    tw_options_free(o);

    tw_options_new("vion-secret-jwt", &o);
    tw_options_set_secret(o, tw_env("TW_VION_SECRET_JWT_SECRET"));
    CHECK_RC(tw_options_set_auth_method(o, TW_AUTH_METHOD_CLIENT_SECRET_JWT), TW_OK, "client_secret_jwt: method");
    CHECK_RC(tw_client_from_keycloak(kc, "vion", o, &c), TW_OK, "client_secret_jwt: client");
    CHECK_RC(tw_client_access_token(c, at, sizeof at, &n), TW_OK, "client_secret_jwt: token");
    tw_client_free(c);
    tw_options_free(o);
}

int main(void) {
    kc = tw_env("KC_URL");
    test_signed_jwt_client_auth();
    test_device_denied_and_cancelled();
    test_device_exchange_and_logout();
    return tw_summary();
}
