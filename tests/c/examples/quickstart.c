/* C quickstart (README): client credentials with a cached, auto-renewed token.
 * Build: cc -std=c99 quickstart.c $(pkg-config --cflags --libs tokenward)
 * Run:   TOKENWARD_TOKEN_URL=https://sso.example.org/realms/r/protocol/openid-connect/token \
 *        TOKENWARD_CLIENT_ID=my-client TOKENWARD_CLIENT_SECRET=... ./a.out */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tokenward.h>

static int fail(const char *what, tw_result rc) {
    const char *oauth = tw_last_error_oauth_error();
    fprintf(stderr, "%s failed: [%s] %s\n", what, tw_result_name(rc), tw_last_error_message());
    if (oauth != NULL) fprintf(stderr, "  server said: %s\n", oauth);
    return 1;
}

int main(void) {
    const char *url = getenv("TOKENWARD_TOKEN_URL");
    const char *id = getenv("TOKENWARD_CLIENT_ID");
    const char *secret = getenv("TOKENWARD_CLIENT_SECRET");
    tw_options *opts = NULL;
    tw_client *client = NULL;
    char header[4096];
    size_t len = 0;
    tw_result rc;

    if (url == NULL || id == NULL || secret == NULL) {
        fprintf(stderr, "set TOKENWARD_TOKEN_URL, TOKENWARD_CLIENT_ID, TOKENWARD_CLIENT_SECRET\n");
        return 2;
    }
    if ((rc = tw_options_new(id, &opts)) != TW_OK) return fail("tw_options_new", rc);
    tw_options_set_secret(opts, secret);
    rc = tw_client_from_token_url(url, opts, &client);
    tw_options_free(opts); /* the client keeps its own copy */
    if (rc != TW_OK) return fail("tw_client_from_token_url", rc);

    /* Call this before every API request: it is a cache hit until the token is about to expire. */
    rc = tw_client_authorization_header(client, header, sizeof header, &len);
    if (rc != TW_OK) {
        tw_client_free(client);
        return fail("tw_client_authorization_header", rc);
    }
    printf("Authorization header ready (%zu bytes, starts with \"%.7s\")\n", len, header);

    tw_client_free(client);
    return 0;
}
