/* The fault matrix's C column (issue #7): every fault of tests/faults/faults.tsv from the shared
 * scripted server (tests/faults/server.py, started by tests/c/run), through
 * tw_client_access_token.
 *
 * For each fault, two checks:
 * - a fresh client's first call returns the fault's TW_ERR_* code within the timeout (1 s, plus
 *   1 s grace), with no secret in the message;
 * - a client holding a valid token (8 s, renewed 4 s before expiry) keeps returning that token,
 *   never an error, through a renewal that meets the fault, checked after the server saw the
 *   failing exchange end (the session's stats file says done>=1).
 * The second runs for all faults at once, one thread each.
 *
 * Environment: TW_FAULTS_URL (the server's base URL), TW_FAULTS_STATE (its --state directory);
 * TW_FAULTS_LIST (default tests/faults/faults.tsv); TW_FAULT_MATRIX_TSV, when set, the file to
 * write the rows to (format: tests/faults/README.md). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <tokenward.h>

#include "tw_test.h"

#define MAX_FAULTS 32
#define TIMEOUT_MS 1000
#define GRACE_MS 1000
#define LIFETIME_MS 8000
#define MARGIN_MS 4000
#define SECRET "fault-matrix-secret"

typedef struct {
    char fault[64];
    char expect[32];
    /* the first call of a fresh client */
    tw_result rc;
    char reported[48];
    char code[32];
    long elapsed_ms;
    int leak;
    /* the renewal through the fault */
    int kept;
    char note[200];
} fault_row;

static fault_row rows[MAX_FAULTS];
static int nrows;
static const char *base_url;
static const char *state_dir;

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;
    nanosleep(&ts, NULL);
}

/* tests/faults/faults.tsv: the header, then fault<TAB>expect<TAB>label lines. */
static int read_faults(const char *path) {
    char line[512];
    int header = 1;
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    while (fgets(line, sizeof line, f) != NULL && nrows < MAX_FAULTS) {
        char *tab, *tab2;
        if (line[0] == '#' || line[0] == '\n') continue;
        if (header) {
            header = 0;
            continue;
        }
        tab = strchr(line, '\t');
        tab2 = tab ? strchr(tab + 1, '\t') : NULL;
        if (tab == NULL || tab2 == NULL) continue;
        *tab = *tab2 = '\0';
        snprintf(rows[nrows].fault, sizeof rows[nrows].fault, "%.63s", line);
        snprintf(rows[nrows].expect, sizeof rows[nrows].expect, "%.31s", tab + 1);
        nrows++;
    }
    fclose(f);
    return nrows;
}

static tw_client *client_for(const char *path) {
    char url[512];
    tw_options *o = NULL;
    tw_client *c = NULL;
    snprintf(url, sizeof url, "%s%s", base_url, path);
    if (tw_options_new("svc", &o) != TW_OK) return NULL;
    tw_options_set_secret(o, SECRET);
    tw_options_set_timeout_ms(o, TIMEOUT_MS);
    tw_options_set_refresh_margin_ms(o, MARGIN_MS);
    if (tw_client_from_token_url(url, o, &c) != TW_OK) c = NULL;
    tw_options_free(o);
    return c;
}

static void direct(fault_row *r) {
    char path[128], buf[256];
    size_t n = 0;
    long start;
    const char *msg;
    size_t i;
    tw_client *c;
    snprintf(path, sizeof path, "/fault/%s/token", r->fault);
    c = client_for(path);
    if (c == NULL) {
        snprintf(r->code, sizeof r->code, "client_not_made");
        snprintf(r->reported, sizeof r->reported, "%s", tw_result_name(tw_last_error_code()));
        return;
    }
    start = now_ms();
    r->rc = tw_client_access_token(c, buf, sizeof buf, &n);
    r->elapsed_ms = now_ms() - start;
    msg = tw_last_error_message();
    r->leak = r->rc != TW_OK && tw_contains(msg, SECRET);
    if (r->rc == TW_OK) {
        snprintf(r->code, sizeof r->code, "none");
        snprintf(r->reported, sizeof r->reported, "TW_OK");
    } else {
        /* tw_result_name is core's snake_case name; the C constant is TW_ERR_ + its upper case. */
        snprintf(r->code, sizeof r->code, "%s", tw_result_name(r->rc));
        snprintf(r->reported, sizeof r->reported, "TW_ERR_%s", r->code);
        for (i = 0; r->reported[i] != '\0'; i++) {
            r->reported[i] = (char)toupper((unsigned char)r->reported[i]);
        }
    }
    tw_client_free(c);
}

/* requests and done of a /renew/ session; 0 when the file is not there yet. */
static void read_stats(const char *session, long *requests, long *done) {
    char path[512];
    FILE *f;
    *requests = *done = 0;
    snprintf(path, sizeof path, "%s/%s.stats", state_dir, session);
    f = fopen(path, "r");
    if (f == NULL) return;
    if (fscanf(f, "requests=%ld done=%ld", requests, done) != 2) *requests = *done = 0;
    fclose(f);
}

static void *kept(void *arg) {
    fault_row *r = arg;
    char path[512], session[128], want[200], buf[512];
    size_t n = 0;
    long t0, valid_until, done_at = -1, requests = 0, done = 0, calls = 0;
    tw_result rc;
    tw_client *c;
    snprintf(session, sizeof session, "c-%ld-%s", (long)getpid(), r->fault);
    snprintf(path, sizeof path, "/renew/%s/%s/token", r->fault, session);
    snprintf(want, sizeof want, "tw-fault-first-%s", session);
    c = client_for(path);
    if (c == NULL) {
        snprintf(r->note, sizeof r->note, "client not made: %s", tw_last_error_message());
        return NULL;
    }
    t0 = now_ms();
    rc = tw_client_access_token(c, buf, sizeof buf, &n);
    if (rc != TW_OK || strcmp(buf, want) != 0) {
        snprintf(r->note, sizeof r->note, "the first token failed: %s", tw_result_name(rc));
        tw_client_free(c);
        return NULL;
    }
    /* Valid until at least t0 + lifetime: its clock starts when the request left. */
    valid_until = t0 + LIFETIME_MS - 500;
    for (;;) {
        long now = now_ms();
        read_stats(session, &requests, &done);
        if (now >= valid_until) {
            snprintf(r->note, sizeof r->note, "no failed renewal seen before expiry (requests=%ld done=%ld)",
                     requests, done);
            break;
        }
        rc = tw_client_access_token(c, buf, sizeof buf, &n);
        if (rc != TW_OK) {
            snprintf(r->note, sizeof r->note, "a call failed while the token was valid: %s",
                     tw_result_name(rc));
            break;
        }
        if (strcmp(buf, want) != 0) {
            snprintf(r->note, sizeof r->note, "the cache handed out another token");
            break;
        }
        calls++;
        if (done >= 1) {
            if (done_at < 0) done_at = now;
            if (now - done_at >= 300) {
                r->kept = 1;
                snprintf(r->note, sizeof r->note, "%ld calls, %ld renewal(s) failed", calls, requests - 1);
                break;
            }
        }
        sleep_ms(50);
    }
    tw_client_free(c);
    /* A renewal still in flight ends on its own; let it (the server sees every exchange end),
     * so that nothing is left running at exit for valgrind to count. */
    valid_until = now_ms() + 3 * TIMEOUT_MS;
    do {
        sleep_ms(50);
        read_stats(session, &requests, &done);
    } while (done < requests - 1 && now_ms() < valid_until);
    sleep_ms(200);
    return NULL;
}

int main(void) {
    const char *list = getenv("TW_FAULTS_LIST");
    const char *out = getenv("TW_FAULT_MATRIX_TSV");
    pthread_t th[MAX_FAULTS];
    FILE *f = NULL;
    char tmp[1024];
    int i;

    base_url = tw_env("TW_FAULTS_URL");
    state_dir = tw_env("TW_FAULTS_STATE");
    if (list == NULL || *list == '\0') list = "tests/faults/faults.tsv";
    if (out != NULL && *out != '\0') remove(out); /* no stale column if this run dies */
    read_faults(list);
    CHECK(nrows == 9, "%s lists issue #2's nine faults (read %d)", list, nrows);

    /* One at a time, so no timing is another's queue. */
    for (i = 0; i < nrows; i++) direct(&rows[i]);
    /* Each waits out half a token lifetime: all at once. */
    for (i = 0; i < nrows; i++) pthread_create(&th[i], NULL, kept, &rows[i]);
    for (i = 0; i < nrows; i++) pthread_join(th[i], NULL);

    if (out != NULL && *out != '\0') {
        snprintf(tmp, sizeof tmp, "%s.tmp", out);
        f = fopen(tmp, "w");
    }
    if (f != NULL) {
        fprintf(f, "# tokenward fault matrix v1: c (tests/c/test_faults.c, tw_client_access_token)\n"
                   "fault\treported\tcode\telapsed_ms\ttimeout_ms\tin_time\tkept\tresult\tnote\n");
    }
    for (i = 0; i < nrows; i++) {
        fault_row *r = &rows[i];
        int in_time = r->elapsed_ms <= TIMEOUT_MS + GRACE_MS;
        int typed = strcmp(r->code, r->expect) == 0 && in_time && !r->leak;
        CHECK(typed, "%s: %s in %ld ms (want %s within %d ms, no secret in the message)", r->fault,
              r->reported, r->elapsed_ms, r->expect, TIMEOUT_MS);
        CHECK(r->kept, "%s: the still-valid token is kept through a failed renewal (%s)", r->fault, r->note);
        if (f != NULL) {
            fprintf(f, "%s\t%s\t%s\t%ld\t%d\t%s\t%s\t%s\t%s\n", r->fault, r->reported, r->code, r->elapsed_ms,
                    TIMEOUT_MS, in_time ? "yes" : "no", r->kept ? "yes" : "no",
                    typed && r->kept ? "pass" : "fail", r->note);
        }
    }
    if (out != NULL && *out != '\0') {
        int written = f != NULL && fclose(f) == 0 && rename(tmp, out) == 0;
        CHECK(written, "fault matrix rows written to %s", out);
    }
    return tw_summary();
}
