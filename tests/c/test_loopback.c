/* Against the scripted loopback server (tests/faults/server.py, its /mode/<mode>/token routes;
 * tests/c/run exports TW_LOOPBACK_URL=<server>/mode and TW_LOOPBACK_STATS): error shapes
 * Keycloak will not produce on demand, one renewal for many threads refused with the same token,
 * the token hook, and 16 threads sharing one client through several expiries with exactly one
 * token request per renewal. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include <tokenward.h>

#include "tw_test.h"

static char base_url[256];
static const char *stats_dir;

static tw_client *client_for(const char *mode, const char *secret) {
    char url[400];
    tw_options *o = NULL;
    tw_client *c = NULL;
    snprintf(url, sizeof url, "%s/%s/token", base_url, mode);
    tw_options_new("c1", &o);
    tw_options_set_secret(o, secret);
    if (tw_client_from_token_url(url, o, &c) != TW_OK) c = NULL;
    tw_options_free(o);
    return c;
}

/* requests and max_concurrent from STATS_DIR/<mode>.stats; 0 when absent. */
static void read_stats(const char *mode, long *requests, long *max_concurrent) {
    char path[512];
    FILE *f;
    *requests = 0;
    *max_concurrent = 0;
    snprintf(path, sizeof path, "%s/%s.stats", stats_dir, mode);
    f = fopen(path, "r");
    if (f == NULL) return;
    if (fscanf(f, "requests=%ld max_concurrent=%ld", requests, max_concurrent) != 2) {
        *requests = -1;
    }
    fclose(f);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_errors(void) {
    char buf[256];
    size_t n = 0;
    tw_client *c = client_for("long", "wrong-secret-value");

    CHECK(c != NULL, "client with a wrong secret is made (no network yet)");
    CHECK_RC(tw_client_access_token(c, buf, sizeof buf, &n), TW_ERR_OAUTH, "wrong secret");
    CHECK(tw_streq(tw_last_error_oauth_error(), "invalid_client"), "oauth error invalid_client");
    CHECK(tw_streq(tw_last_error_oauth_description(), "Invalid client or Invalid client credentials"),
          "server's description");
    CHECK(tw_last_error_http_status() == 401, "HTTP status 401");
    CHECK(!tw_contains(tw_last_error_message(), "wrong-secret-value"), "message without the secret");
    CHECK(tw_contains(tw_last_error_message(), "check the client id and secret"),
          "message says what to do");
    tw_client_free(c);

    c = client_for("html500", "s1");
    CHECK_RC(tw_client_access_token(c, buf, sizeof buf, &n), TW_ERR_HTTP, "HTML 500 page");
    CHECK(tw_last_error_http_status() == 500, "HTTP status 500");
    CHECK(tw_last_error_oauth_error() == NULL, "no oauth error for an HTML page");
    CHECK(tw_contains(tw_last_error_message(), "Internal Server Error"), "message quotes the page");
    tw_client_free(c);

    {
        tw_options *o = NULL;
        tw_client *dead = NULL;
        tw_options_new("c1", &o);
        tw_options_set_secret(o, "s1");
        tw_options_set_timeout_ms(o, 2000);
        CHECK_RC(tw_client_from_token_url("http://127.0.0.1:1/token", o, &dead), TW_OK,
                 "client for a closed port");
        CHECK_RC(tw_client_access_token(dead, buf, sizeof buf, &n), TW_ERR_TRANSPORT,
                 "connection refused");
        tw_client_free(dead);
        tw_options_free(o);
    }
}

static void test_claims_and_basic(void) {
    char url[400];
    char buf[2048];
    size_t n = 0;
    char *claims = NULL;
    tw_options *o = NULL;
    tw_client *c = NULL;

    snprintf(url, sizeof url, "%s/jwt/token", base_url);
    tw_options_new("c1", &o);
    tw_options_set_secret(o, "s1");
    tw_options_set_auth_method(o, TW_AUTH_METHOD_CLIENT_SECRET_BASIC);
    tw_options_add_required_claim(o, "tenant");
    CHECK_RC(tw_client_from_token_url(url, o, &c), TW_OK, "JWT client, basic auth, tenant required");
    CHECK_RC(tw_client_access_token(c, buf, sizeof buf, &n), TW_OK, "token with a tenant claim");
    CHECK_RC(tw_client_claims_json(c, &claims), TW_OK, "claims_json");
    CHECK(tw_contains(claims, "\"tenant\":\"t1\""), "claims carry tenant");
    tw_string_free(claims);
    tw_client_free(c);

    tw_options_add_required_claim(o, "org");
    CHECK_RC(tw_client_from_token_url(url, o, &c), TW_OK, "client that requires `org` too");
    CHECK_RC(tw_client_access_token(c, buf, sizeof buf, &n), TW_ERR_MISSING_CLAIM,
             "token without `org`");
    CHECK(tw_contains(tw_last_error_message(), "`org`"), "message names the claim");
    tw_client_free(c);
    tw_options_free(o);
}

/* --- a 401 seen by many threads at once: one renewal --------------------------------------- */

#define REJECTERS 8

struct rejection {
    tw_client *client;
    const char *rejected;
    char got[REJECTERS][128];
    tw_result rc[REJECTERS];
    int next;
    pthread_mutex_t lock;
};

static void *reject(void *arg) {
    struct rejection *r = arg;
    size_t n = 0;
    int me;
    pthread_mutex_lock(&r->lock);
    me = r->next++;
    pthread_mutex_unlock(&r->lock);
    r->rc[me] = tw_client_access_token_after_rejection(r->client, r->rejected, r->got[me],
                                                       sizeof r->got[me], &n);
    return NULL;
}

/* The server numbers each mode's tokens: "<mode>-<n>-...". Counting by token numbers rather
 * than the stats file, which the server writes only after its answer has left. */
static long token_no(const char *token) {
    const char *dash = strchr(token, '-');
    return dash == NULL ? -1 : strtol(dash + 1, NULL, 10);
}

static void test_rejection(void) {
    struct rejection r;
    pthread_t th[REJECTERS];
    char first[128], buf[128], tiny[4];
    size_t n = 0;
    long n0;
    int i, same = 1;

    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.lock, NULL);
    r.client = client_for("slow", "s1"); /* 150 ms per request: the threads overlap */
    CHECK(r.client != NULL, "client for the rejection test");
    CHECK_RC(tw_client_access_token(r.client, first, sizeof first, &n), TW_OK, "first token");
    n0 = token_no(first);
    r.rejected = first;
    for (i = 0; i < REJECTERS; i++) pthread_create(&th[i], NULL, reject, &r);
    for (i = 0; i < REJECTERS; i++) pthread_join(th[i], NULL);
    for (i = 0; i < REJECTERS; i++) {
        same &= r.rc[i] == TW_OK && strcmp(r.got[i], r.got[0]) == 0;
    }
    CHECK(same, "%d threads refused with one token all get the same new one", REJECTERS);
    CHECK(n0 > 0 && token_no(r.got[0]) == n0 + 1, "one renewal for %d refusals (token %ld after %ld)",
          REJECTERS, token_no(r.got[0]), n0);

    /* A late refusal of the old token: the cache moved on already, no request. */
    CHECK_RC(tw_client_access_token_after_rejection(r.client, first, buf, sizeof buf, &n), TW_OK,
             "late refusal of the old token");
    CHECK(strcmp(buf, r.got[0]) == 0, "late refusal: the renewed token, no request");

    /* Too small a buffer: the size comes back; asking again copies that same renewal. */
    CHECK_RC(tw_client_access_token_after_rejection(r.client, buf, tiny, sizeof tiny, &n),
             TW_ERR_BUFFER_TOO_SMALL, "refusal with a 4-byte buffer");
    CHECK(n == strlen(buf) + 1, "size needed reported (%zu)", n);
    CHECK_RC(tw_client_access_token_after_rejection(r.client, buf, r.got[1], sizeof r.got[1], &n),
             TW_OK, "again with room");
    CHECK(token_no(r.got[1]) == n0 + 2,
          "the refused current token was renewed once (token %ld after %ld)", token_no(r.got[1]), n0);
    tw_client_free(r.client);
    pthread_mutex_destroy(&r.lock);
}

/* --- 16 threads through expiry ------------------------------------------------------------ */

#define THREADS 16
#define MAX_SEEN 64

struct hook_count {
    pthread_mutex_t lock;
    int calls;
    int bad;
};

static void count_hook(void *user_data, const tw_token *token) {
    struct hook_count *h = user_data;
    char buf[256];
    size_t n = 0;
    int ok = tw_token_access_token(token, buf, sizeof buf, &n) == TW_OK && n > 0;
    pthread_mutex_lock(&h->lock);
    h->calls++;
    if (!ok) h->bad++;
    pthread_mutex_unlock(&h->lock);
}

struct shared {
    tw_client *client;
    double until;
    pthread_mutex_t lock;
    char seen[MAX_SEEN][64];
    int nseen;
    long calls;
    long errors;
};

static void *hammer(void *arg) {
    struct shared *s = arg;
    char buf[256];
    char last[64] = "";
    size_t n = 0;
    long calls = 0, errors = 0;
    while (now_s() < s->until) {
        if (tw_client_access_token(s->client, buf, sizeof buf, &n) != TW_OK) {
            errors++;
            continue;
        }
        calls++;
        if (strncmp(buf, last, sizeof last - 1) != 0) {
            int i, known = 0;
            snprintf(last, sizeof last, "%.63s", buf);
            pthread_mutex_lock(&s->lock);
            for (i = 0; i < s->nseen; i++) known |= strcmp(s->seen[i], last) == 0;
            if (!known && s->nseen < MAX_SEEN) strcpy(s->seen[s->nseen++], last);
            pthread_mutex_unlock(&s->lock);
        }
    }
    pthread_mutex_lock(&s->lock);
    s->calls += calls;
    s->errors += errors;
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void run_threads(const char *label, long margin_ms, double seconds) {
    tw_options *o = NULL;
    struct hook_count hook;
    struct shared s;
    pthread_t th[THREADS];
    long before, after, max_conc, requests;
    int i;
    double lifetime = 2.0, renew_every;
    char url[400];

    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    pthread_mutex_init(&hook.lock, NULL);
    hook.calls = 0;
    hook.bad = 0;
    snprintf(url, sizeof url, "%s/short/token", base_url);
    tw_options_new("c1", &o);
    tw_options_set_secret(o, "s1");
    if (margin_ms >= 0) tw_options_set_refresh_margin_ms(o, (uint64_t)margin_ms);
    tw_options_set_on_token(o, count_hook, &hook);
    tw_client_from_token_url(url, o, &s.client);
    tw_options_free(o);

    read_stats("short", &before, &max_conc);
    s.until = now_s() + seconds;
    for (i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, hammer, &s);
    for (i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    tw_client_free(s.client); /* after this the hook never runs again */
    read_stats("short", &after, &max_conc);
    requests = after - before;

    /* Default margin: renew 10 % (200 ms) before the 2 s expiry, in the background. */
    renew_every = margin_ms == 0 ? lifetime : lifetime * 0.9;
    printf("     %s: %ld calls, %ld errors, %d distinct tokens, %ld requests, %d hook calls, "
           "max %ld concurrent\n",
           label, s.calls, s.errors, s.nseen, requests, hook.calls, max_conc);
    CHECK(s.errors == 0, "%s: no errors from %d threads", label, THREADS);
    CHECK(s.nseen >= (int)(seconds / lifetime), "%s: went through expiries (%d tokens)", label,
          s.nseen);
    CHECK(requests == hook.calls && hook.bad == 0, "%s: one hook call per token request", label);
    CHECK(requests >= s.nseen && requests <= s.nseen + 1,
          "%s: one request per renewal (%ld requests, %d tokens seen)", label, requests, s.nseen);
    /* One renewal per cycle, plus the first fetch, plus one for scheduling delays on a loaded
     * machine; a cache that renewed per call would make thousands. */
    CHECK(requests <= (long)(seconds / renew_every) + 3, "%s: no extra renewals (%ld)", label,
          requests);
    CHECK(max_conc == 1, "%s: never two token requests at once", label);
    pthread_mutex_destroy(&s.lock);
    pthread_mutex_destroy(&hook.lock);
}

int main(void) {
    snprintf(base_url, sizeof base_url, "%s", tw_env("TW_LOOPBACK_URL"));
    stats_dir = tw_env("TW_LOOPBACK_STATS");
    test_errors();
    test_claims_and_basic();
    test_rejection();
    run_threads("background renewal", -1, 5.0);
    run_threads("renewal at expiry", 0, 5.0);
    return tw_summary();
}
