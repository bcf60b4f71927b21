/* The cached tw_client_access_token call from C, copying into the caller's buffer: median ns
 * per call over ROUNDS batches of BATCH calls, one thread. For scale, the same measurement of a
 * plain memcpy of the token into the buffer. Prints "ns_per_call token_bytes memcpy_ns".
 *   bench TOKEN_URL CLIENT_ID CLIENT_SECRET */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tokenward.h>

#define ROUNDS 31
#define BATCH 200000

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    tw_options *o = NULL;
    tw_client *c = NULL;
    static char buf[16384];
    size_t n = 0;
    double per_call[ROUNDS], per_copy[ROUNDS];
    static char copy[16384];
    int r, i;
    unsigned long sink = 0;

    if (argc != 4) {
        fprintf(stderr, "usage: bench TOKEN_URL CLIENT_ID CLIENT_SECRET\n");
        return 2;
    }
    tw_options_new(argv[2], &o);
    tw_options_set_secret(o, argv[3]);
    if (tw_client_from_token_url(argv[1], o, &c) != TW_OK ||
        tw_client_access_token(c, buf, sizeof buf, &n) != TW_OK) {
        fprintf(stderr, "bench: %s\n", tw_last_error_message());
        return 1;
    }
    tw_options_free(o);
    for (i = 0; i < BATCH; i++) sink += tw_client_access_token(c, buf, sizeof buf, &n);
    for (r = 0; r < ROUNDS; r++) {
        double t0 = now_ns();
        for (i = 0; i < BATCH; i++) sink += tw_client_access_token(c, buf, sizeof buf, &n);
        per_call[r] = (now_ns() - t0) / BATCH;
    }
    for (r = 0; r < ROUNDS; r++) {
        double t0 = now_ns();
        for (i = 0; i < BATCH; i++) {
            memcpy(copy, buf, n + 1);
            __asm__ volatile("" : : "r"(copy) : "memory"); /* keep every copy */
        }
        per_copy[r] = (now_ns() - t0) / BATCH;
    }
    qsort(per_call, ROUNDS, sizeof per_call[0], cmp);
    qsort(per_copy, ROUNDS, sizeof per_copy[0], cmp);
    printf("%.1f %zu %.1f\n", per_call[ROUNDS / 2], n, per_copy[ROUNDS / 2]);
    tw_client_free(c);
    return sink == 0 ? 0 : 1;
}
