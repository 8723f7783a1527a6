/* check.h: the tiny assertion harness of the C tests (counts checks, reports every failure, never aborts). */
#ifndef FOLIO_CHECK_H
#define FOLIO_CHECK_H

#include <stdio.h>
#include <string.h>

#include "folio.h"

static int g_checks, g_failures;

/* The call returned `expected`; an error also left a message, a success left none. */
#define EXPECT(call, expected) expect_status((call), (expected), #call, __LINE__)
#define EXPECT_TRUE(cond) expect_true((cond), #cond, __LINE__)

static void expect_status(int32_t got, int32_t expected, const char* what, int line) {
    g_checks++;
    const char* message = folio_last_error();
    if (message == NULL) {
        g_failures++;
        fprintf(stderr, "line %d: %s: folio_last_error() returned NULL\n", line, what);
    } else if (got != expected) {
        g_failures++;
        fprintf(stderr, "line %d: %s: got %s (%d), expected %s (%d): %s\n", line, what, folio_status_name(got), got,
                folio_status_name(expected), expected, message);
    } else if (expected != FOLIO_STATUS_OK && message[0] == '\0') {
        g_failures++;
        fprintf(stderr, "line %d: %s: %s without a message\n", line, what, folio_status_name(got));
    } else if (expected == FOLIO_STATUS_OK && message[0] != '\0') {
        g_failures++;
        fprintf(stderr, "line %d: %s: succeeded but left the message '%s'\n", line, what, message);
    }
}

static void expect_true(int cond, const char* what, int line) {
    g_checks++;
    if (!cond) {
        g_failures++;
        fprintf(stderr, "line %d: expected %s\n", line, what);
    }
}

static int check_report(const char* name) {
    printf("%s: %d checks, %d failed\n", name, g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}

#endif
