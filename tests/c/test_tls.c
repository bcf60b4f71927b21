/* TLS and the https rule through the C API, against tests/faults/server.py --tls (the scripted
 * loopback server as an HTTPS token endpoint) behind a throw-away private CA made by
 * tests/tls/gen-certs. tests/c/run starts the server and exports TW_TLS_URL (its token URL),
 * TW_TLS_CA (the CA that signed it),
 * TW_TLS_OTHER_CA (an unrelated CA) and TW_TLS_DIR (a scratch dir).
 *
 * - the private CA is refused by default (TW_ERR_TRANSPORT, the message names the certificate
 *   problem and says how to trust a private CA, and holds no secret); also with the platform
 *   store and with the wrong CA file;
 * - it is accepted with tw_options_set_ca_file;
 * - a CA file that is not PEM is TW_ERR_CONFIG when the client is made;
 * - plain http:// off loopback is TW_ERR_INSECURE_URL with no network traffic: every proxy
 *   variable points at a listening socket of this program, and nothing ever connects to it
 *   (a positive control shows that a real request would). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tokenward.h>

#include "tw_test.h"

#define SECRET "tls-test-client-secret-c-7d41"
#define TOKEN "tls-test-access-token"
/* Generous: under valgrind a TLS handshake is slow. */
#define TIMEOUT_MS 30000

static const char *tls_url;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Case-insensitive substring search. */
static int contains_ci(const char *haystack, const char *needle) {
    size_t n, i;
    if (haystack == NULL || needle == NULL) return 0;
    n = strlen(needle);
    for (; *haystack != '\0'; haystack++) {
        for (i = 0; i < n; i++) {
            if (haystack[i] == '\0' ||
                tolower((unsigned char)haystack[i]) != tolower((unsigned char)needle[i])) {
                break;
            }
        }
        if (i == n) return 1;
    }
    return 0;
}

/* Options for the TLS client: secret, timeout, no proxy. ca_file NULL: the default trust. */
static tw_options *tls_options(const char *ca_file) {
    tw_options *o = NULL;
    if (tw_options_new("tls-client", &o) != TW_OK) return NULL;
    tw_options_set_secret(o, SECRET);
    tw_options_set_timeout_ms(o, TIMEOUT_MS);
    tw_options_set_proxy_from_env(o, false);
    if (ca_file != NULL) tw_options_set_ca_file(o, ca_file);
    return o;
}

/* One token request with these options; the result code, the token copied into buf. */
static tw_result fetch(tw_options *o, char *buf, size_t cap) {
    tw_client *c = NULL;
    size_t n = 0;
    tw_result rc = tw_client_from_token_url(tls_url, o, &c);
    if (rc != TW_OK) return rc;
    rc = tw_client_access_token(c, buf, cap, &n);
    tw_client_free(c);
    return rc;
}

/* The refusal of an untrusted certificate, as the last error on this thread describes it. */
static void check_certificate_refusal(const char *label, tw_result rc, double seconds) {
    const char *msg = tw_last_error_message();
    CHECK(rc == TW_ERR_TRANSPORT, "%s: refused with TW_ERR_TRANSPORT (got %s)", label,
          tw_result_name(rc));
    CHECK(tw_last_error_code() == TW_ERR_TRANSPORT, "%s: tw_last_error_code is TW_ERR_TRANSPORT",
          label);
    CHECK(contains_ci(msg, "certificate") || contains_ci(msg, "issuer"),
          "%s: the message names the certificate problem", label);
    /* The hint core adds names each binding's option; C users must find theirs. */
    CHECK(tw_contains(msg, "private CA") && tw_contains(msg, "tw_options_set_ca_file"),
          "%s: the message says how to trust a private CA from C", label);
    CHECK(!tw_contains(msg, SECRET), "%s: no secret in the message", label);
    CHECK(tw_last_error_http_status() == 0 && tw_last_error_oauth_error() == NULL,
          "%s: no HTTP status or OAuth error (refused before HTTP)", label);
    CHECK(seconds < TIMEOUT_MS / 1000.0, "%s: no hang (%.2f s)", label, seconds);
}

static void test_refused_by_default(void) {
    char buf[256] = "";
    double t0;
    tw_result rc;
    tw_options *o = tls_options(NULL);

    t0 = now_s();
    rc = fetch(o, buf, sizeof buf);
    check_certificate_refusal("default trust (webpki)", rc, now_s() - t0);
    printf("# refused by default: %s\n", tw_last_error_message());
    CHECK(buf[0] == '\0', "default trust: nothing written to the token buffer");

    CHECK_RC(tw_options_set_trust(o, TW_TRUST_PLATFORM), TW_OK, "set trust: platform");
    t0 = now_s();
    rc = fetch(o, buf, sizeof buf);
    check_certificate_refusal("platform store", rc, now_s() - t0);
    tw_options_free(o);

    o = tls_options(tw_env("TW_TLS_OTHER_CA"));
    t0 = now_s();
    rc = fetch(o, buf, sizeof buf);
    check_certificate_refusal("another private CA", rc, now_s() - t0);
    tw_options_free(o);

    /* tw_options_set_trust replaces a CA file set before. */
    o = tls_options(tw_env("TW_TLS_CA"));
    tw_options_set_trust(o, TW_TRUST_WEBPKI);
    t0 = now_s();
    rc = fetch(o, buf, sizeof buf);
    check_certificate_refusal("CA file replaced by TW_TRUST_WEBPKI", rc, now_s() - t0);
    tw_options_free(o);
}

static void test_accepted_with_ca_file(void) {
    char buf[256] = "";
    char buf2[256] = "";
    size_t n = 0;
    tw_options *o = tls_options(tw_env("TW_TLS_CA"));
    tw_client *c = NULL;
    tw_token *t = NULL;

    CHECK_RC(tw_client_from_token_url(tls_url, o, &c), TW_OK, "client with the CA file");
    CHECK_RC(tw_client_access_token(c, buf, sizeof buf, &n), TW_OK,
             "token over TLS with tw_options_set_ca_file");
    CHECK(tw_streq(buf, TOKEN) && n == strlen(TOKEN), "the server's access token (%s)", buf);
    CHECK_RC(tw_client_token(c, &t), TW_OK, "tw_client_token over TLS");
    CHECK(t != NULL && tw_token_expires_in(t) > 200 && tw_token_expires_in(t) <= 300,
          "expires_in from the response (300 s)");
    tw_token_free(t);
    CHECK_RC(tw_client_access_token(c, buf2, sizeof buf2, &n), TW_OK, "second call");
    CHECK(tw_streq(buf, buf2), "same token from the cache");
    tw_client_free(c);

    /* A CA file set after another trust choice wins too. */
    tw_options_set_trust(o, TW_TRUST_PLATFORM);
    tw_options_set_ca_file(o, tw_env("TW_TLS_CA"));
    CHECK_RC(fetch(o, buf, sizeof buf), TW_OK, "tw_options_set_ca_file after set_trust wins");
    tw_options_free(o);
}

static void test_ca_file_not_pem(void) {
    char path[512];
    char buf[64];
    tw_options *o;
    tw_client *c = NULL;
    FILE *f;

    snprintf(path, sizeof path, "%s/c-not-pem.txt", tw_env("TW_TLS_DIR"));
    f = fopen(path, "w");
    if (f != NULL) {
        fputs("this is not a certificate\n", f);
        fclose(f);
    }
    o = tls_options(path);
    CHECK_RC(tw_client_from_token_url(tls_url, o, &c), TW_ERR_CONFIG,
             "a CA file that is not PEM: TW_ERR_CONFIG when the client is made");
    CHECK(c == NULL, "no client");
    CHECK(tw_contains(tw_last_error_message(), "c-not-pem.txt"), "the message names the file");
    tw_options_free(o);

    snprintf(path, sizeof path, "%s/no-such-ca.pem", tw_env("TW_TLS_DIR"));
    o = tls_options(path);
    CHECK_RC(fetch(o, buf, sizeof buf), TW_ERR_CONFIG, "a missing CA file: TW_ERR_CONFIG");
    CHECK(tw_contains(tw_last_error_message(), "no-such-ca.pem"), "the message names the file");
    tw_options_free(o);
}

/* --- plain http:// off loopback ----------------------------------------------------------- */

/* A listening loopback socket every proxy variable points at: the only place a request could
 * go. Returns the fd, -1 on failure. */
static int proxy_trap(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    char url[64];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    const char *vars[] = {"ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                          "http_proxy"};
    size_t i;

    if (fd < 0) return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++) setenv(vars[i], url, 1);
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    return fd;
}

/* Whether a connection is waiting on the trap; accepts and closes it. */
static int trap_hit(int fd) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
        int c = accept(fd, NULL, NULL);
        if (c >= 0) close(c);
        return 1;
    }
    return 0;
}

static void test_insecure_url(void) {
    static const char *bases[] = {"http://keycloak.example.com", "http://10.0.0.1",
                                  "http://127.0.0.1.nip.io"};
    char url[256];
    char buf[64];
    size_t i, n = 0;
    int trap = proxy_trap();
    tw_options *o = NULL;
    tw_client *c = NULL;
    double t0;

    CHECK(trap >= 0, "proxy trap listening; every *_PROXY variable points at it");
    tw_options_new("tls-client", &o);
    tw_options_set_secret(o, SECRET);
    tw_options_set_timeout_ms(o, 2000); /* proxy_from_env stays on: the trap sees any request */

    for (i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        const char *base = bases[i];
        tw_param tenant;
        t0 = now_s();
        snprintf(url, sizeof url, "%s/realms/x/protocol/openid-connect/token", base);
        c = NULL;
        CHECK_RC(tw_client_from_token_url(url, o, &c), TW_ERR_INSECURE_URL, "token URL %s", url);
        CHECK(c == NULL, "%s: no client", base);
        CHECK(tw_last_error_code() == TW_ERR_INSECURE_URL, "%s: last error TW_ERR_INSECURE_URL",
              base);
        CHECK(tw_contains(tw_last_error_message(), "https"), "%s: the message asks for https",
              base);
        CHECK(!tw_contains(tw_last_error_message(), SECRET), "%s: no secret in the message", base);

        CHECK_RC(tw_client_from_keycloak(base, "x", o, &c), TW_ERR_INSECURE_URL,
                 "Keycloak base %s", base);

        /* Discovery would fetch the issuer's document: refused before any request. */
        snprintf(url, sizeof url, "%s/realms/x", base);
        CHECK_RC(tw_client_discover(url, o, &c), TW_ERR_INSECURE_URL,
                 "discovery of %s (refused, not a network error)", url);

        snprintf(url, sizeof url, "%s/realms/{tenant}", base);
        tenant.name = "tenant";
        tenant.value = "t1";
        CHECK_RC(tw_client_from_template(url, &tenant, 1, o, &c), TW_ERR_INSECURE_URL,
                 "template %s", url);
        CHECK(now_s() - t0 < 1.0, "%s: refused at once (%.3f s)", base, now_s() - t0);
        CHECK(!trap_hit(trap), "%s: no connection attempted (the proxy trap saw none)", base);
    }

    /* Positive control: a real https request does go through the trap, so its silence above
     * means something. The trap never answers: the request times out (2 s). */
    CHECK_RC(tw_client_from_token_url("https://keycloak.example.com/realms/x/protocol/"
                                      "openid-connect/token",
                                      o, &c),
             TW_OK, "control: https client through the proxy trap");
    {
        tw_result rc = tw_client_access_token(c, buf, sizeof buf, &n);
        CHECK(rc == TW_ERR_TIMEOUT || rc == TW_ERR_TRANSPORT || rc == TW_ERR_INVALID_RESPONSE,
              "control: the request fails without a proxy answer (%s)", tw_result_name(rc));
    }
    CHECK(trap_hit(trap), "control: the proxy trap saw the https request's connection");
    tw_client_free(c);
    tw_options_free(o);
    if (trap >= 0) close(trap);
}

int main(void) {
    tls_url = tw_env("TW_TLS_URL");
    printf("# TLS token endpoint %s\n", tls_url);
    test_refused_by_default();
    test_accepted_with_ca_file();
    test_ca_file_not_pem();
    test_insecure_url();
    return tw_summary();
}
