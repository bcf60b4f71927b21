/* A panic inside the library comes back as TW_ERR_PANIC with a message, never an abort, and the
 * library keeps working afterwards. Links the test build of libtokenward (cargo feature
 * `test-hooks`), the only one that exports tw_test_force_panic. */
#include <tokenward.h>

#include "tw_test.h"

/* Declared here, not in tokenward.h: the shipped library does not have it. */
tw_result tw_test_force_panic(void);

int main(void) {
    tw_options *o = NULL;
    int i;
    CHECK_RC(tw_test_force_panic(), TW_ERR_PANIC, "forced panic returns TW_ERR_PANIC");
    CHECK(tw_last_error_code() == TW_ERR_PANIC, "last error code is TW_ERR_PANIC");
    CHECK(tw_contains(tw_last_error_message(), "forced by tw_test_force_panic"),
          "message carries the panic's text");
    CHECK(tw_contains(tw_last_error_message(), "a bug, please report it"), "message says it is a bug");
    for (i = 0; i < 3; i++) {
        CHECK_RC(tw_test_force_panic(), TW_ERR_PANIC, "panic %d again", i + 2);
    }
    CHECK_RC(tw_options_new("still-works", &o), TW_OK, "the library works after panics");
    tw_options_free(o);
    return tw_summary();
}
