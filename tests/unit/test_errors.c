/* The error table and the last-error message, without MPI (hpool_init is never called):
 *  - every HPOOL_ERRNO_MAP code has its own negative value, name ("HPOOL_" + the macro
 *    name) and text; unknown codes get a fixed name and text, never NULL;
 *  - a failing call leaves a message naming the function, per thread, truncated safely;
 *  - hpool_register_task's argument checks, the table limit and registration after
 *    hpool_init (simulated by freezing the registry, as hpool_init does). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "hpool.h"
#include "errors.h"
#include "registry.h"

typedef struct {
    int code;
    const char *name;
    const char *text;
} errno_entry;

#define ENTRY(name, code, text) {HPOOL_##name, "HPOOL_" #name, text},
static const errno_entry table[] = {HPOOL_ERRNO_MAP(ENTRY)};
#undef ENTRY
enum { N_CODES = sizeof table / sizeof table[0] };

static int dummy_task(hpool_task_ctx *ctx, const void *arg, size_t len)
{
    (void)ctx;
    (void)arg;
    (void)len;
    return 0;
}

/* ---------------------------------------------------------------- the table */
static void every_code_has_its_name_and_text(void **state)
{
    (void)state;
    assert_true(N_CODES >= 18);
    for (int i = 0; i < N_CODES; i++) {
        const errno_entry *e = &table[i];
        assert_true(e->code < 0);
        assert_string_equal(hpool_errname(e->code), e->name);
        assert_string_equal(hpool_strerror(e->code), e->text);
        assert_int_equal(strncmp(hpool_errname(e->code), "HPOOL_", 6), 0);
        assert_true(strlen(hpool_strerror(e->code)) > 0);
        assert_string_not_equal(hpool_strerror(e->code), "unknown error");
        assert_string_not_equal(hpool_errname(e->code), "HPOOL_UNKNOWN");
    }
}

static void codes_names_and_texts_are_distinct(void **state)
{
    (void)state;
    for (int i = 0; i < N_CODES; i++)
        for (int j = i + 1; j < N_CODES; j++) {
            assert_int_not_equal(table[i].code, table[j].code);
            assert_string_not_equal(hpool_errname(table[i].code), hpool_errname(table[j].code));
            assert_string_not_equal(hpool_strerror(table[i].code),
                                    hpool_strerror(table[j].code));
        }
}

/* The codes are -1, -2, ... without holes, so a new one is appended at the end. */
static void codes_are_contiguous(void **state)
{
    (void)state;
    for (int code = -1; code >= -N_CODES; code--) {
        int found = 0;
        for (int i = 0; i < N_CODES; i++)
            found += table[i].code == code;
        assert_int_equal(found, 1);
    }
}

static void success_and_unknown_codes(void **state)
{
    (void)state;
    assert_int_equal(HPOOL_OK, 0);
    assert_string_equal(hpool_errname(HPOOL_OK), "HPOOL_OK");
    assert_string_equal(hpool_strerror(HPOOL_OK), "success");
    const int unknown[] = {1, 2, HPOOL_MANAGER, 1000, -N_CODES - 1, -1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_non_null(hpool_errname(unknown[i]));
        assert_non_null(hpool_strerror(unknown[i]));
        assert_string_equal(hpool_errname(unknown[i]), "HPOOL_UNKNOWN");
        assert_string_equal(hpool_strerror(unknown[i]), "unknown error");
    }
}

/* ---------------------------------------------------------------- last error */
static void *fresh_thread_message(void *arg)
{
    (void)arg;
    return (void *)(uintptr_t)(hpool_last_error()[0] == '\0');
}

static void last_error_starts_empty(void **state)
{
    (void)state;
    pthread_t t;
    void *empty = NULL;
    assert_int_equal(pthread_create(&t, NULL, fresh_thread_message, NULL), 0);
    assert_int_equal(pthread_join(t, &empty), 0);
    assert_true(empty != NULL);
}

/* Calls that need hpool_init fail cleanly before it, with a message naming them. */
static void failing_calls_without_mpi(void **state)
{
    (void)state;
    hpool_executor *ex = NULL;
    assert_int_equal(hpool_executor_create(&ex, NULL), HPOOL_ESTATE);
    assert_null(ex);
    assert_non_null(strstr(hpool_last_error(), "hpool_executor_create"));
    assert_int_equal(hpool_finalize(), HPOOL_ESTATE);
    assert_non_null(strstr(hpool_last_error(), "hpool_finalize"));
    assert_int_equal(hpool_world_size(), HPOOL_ESTATE);
    assert_int_equal(hpool_world_rank(), HPOOL_ESTATE);

    hpool_future *f = NULL;
    assert_int_equal(hpool_submit(NULL, "x", NULL, 0, &f), HPOOL_EINVAL);
    assert_non_null(strstr(hpool_last_error(), "hpool_submit"));
    assert_int_equal(hpool_future_result(NULL, 0, NULL, NULL), HPOOL_EINVAL);
    assert_non_null(strstr(hpool_last_error(), "hpool_future_result"));
    assert_int_equal(hpool_shutdown(NULL, true, false), HPOOL_EINVAL);
    assert_non_null(strstr(hpool_last_error(), "hpool_shutdown"));
    assert_int_equal(hpool_wait(NULL, 1, 0, HPOOL_ALL_COMPLETED, NULL, NULL), HPOOL_EINVAL);
    assert_non_null(strstr(hpool_last_error(), "hpool_wait"));
    /* A later success leaves the message of the last failure alone. */
    assert_int_equal(hpool_wait(NULL, 0, 0, HPOOL_ALL_COMPLETED, NULL, NULL), 0);
    assert_non_null(strstr(hpool_last_error(), "hpool_wait"));
}

static void *fail_in_thread(void *arg)
{
    (void)arg;
    hpool_future_release(NULL);
    return (void *)(uintptr_t)(strstr(hpool_last_error(), "hpool_future_release") != NULL);
}

static void last_error_is_per_thread(void **state)
{
    (void)state;
    assert_int_equal(hpool_shutdown(NULL, false, false), HPOOL_EINVAL);
    pthread_t t;
    void *ok = NULL;
    assert_int_equal(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &ok), 0);
    assert_true(ok != NULL);
    assert_non_null(strstr(hpool_last_error(), "hpool_shutdown"));
    assert_null(strstr(hpool_last_error(), "hpool_future_release"));
}

static void long_messages_are_truncated(void **state)
{
    (void)state;
    static char name[4000];
    memset(name, 'n', sizeof name - 1);
    assert_int_equal(hpool_register_task(name, dummy_task), HPOOL_EINVAL);
    const char *msg = hpool_last_error();
    assert_true(strlen(msg) > 0 && strlen(msg) < HPOOL__MSG_MAX);
    assert_int_equal(strncmp(msg, "hpool_register_task", 19), 0);
}

/* ---------------------------------------------------------------- registration */
static void register_argument_checks(void **state)
{
    (void)state;
    assert_int_equal(hpool_register_task(NULL, dummy_task), HPOOL_EINVAL);
    assert_int_equal(hpool_register_task("t", NULL), HPOOL_EINVAL);
    assert_int_equal(hpool_register_task("", dummy_task), HPOOL_EINVAL);
    char name[HPOOL_TASK_NAME_MAX + 1];
    memset(name, 'a', HPOOL_TASK_NAME_MAX);
    name[HPOOL_TASK_NAME_MAX] = '\0';
    assert_int_equal(hpool_register_task(name, dummy_task), HPOOL_EINVAL); /* 64 bytes */
    name[HPOOL_TASK_NAME_MAX - 1] = '\0';
    assert_int_equal(hpool_register_task(name, dummy_task), 0); /* 63 bytes: the longest */
    assert_int_equal(hpool__task_lookup(name), 0);
    assert_int_equal(hpool_register_task("first", dummy_task), 0);
    assert_int_equal(hpool_register_task("first", dummy_task), HPOOL_EINVAL);
    assert_non_null(strstr(hpool_last_error(), "'first'"));
    assert_int_equal(hpool__task_lookup("first"), 1);
    assert_int_equal(hpool__task_lookup("missing"), HPOOL_ENOTASK);
    assert_int_equal(hpool__task_lookup(NULL), HPOOL_ENOTASK);
    assert_ptr_equal(hpool__task_fn(1), dummy_task);
    assert_null(hpool__task_fn(-1));
    assert_null(hpool__task_fn(HPOOL__MAX_TASKS));
    assert_string_equal(hpool__task_name(1), "first");
    assert_string_equal(hpool__task_name(99999), "?");
}

static void register_until_full(void **state)
{
    (void)state;
    char name[32];
    int i = hpool__task_count();
    for (; i < HPOOL__MAX_TASKS; i++) {
        snprintf(name, sizeof name, "task_%d", i);
        assert_int_equal(hpool_register_task(name, dummy_task), 0);
    }
    assert_int_equal(hpool__task_count(), HPOOL__MAX_TASKS);
    assert_int_equal(hpool_register_task("one_too_many", dummy_task), HPOOL_EINVAL);
    assert_non_null(strstr(hpool_last_error(), "tasks"));
    assert_int_equal(hpool__task_lookup("one_too_many"), HPOOL_ENOTASK);
    snprintf(name, sizeof name, "task_%d", HPOOL__MAX_TASKS - 1);
    assert_int_equal(hpool__task_lookup(name), HPOOL__MAX_TASKS - 1);
}

/* hpool_init freezes the registry before anything else; registering afterwards is a
 * state error, even with bad arguments. */
static void register_after_init(void **state)
{
    (void)state;
    hpool__registry_freeze();
    assert_int_equal(hpool_register_task("late", dummy_task), HPOOL_ESTATE);
    assert_non_null(strstr(hpool_last_error(), "late"));
    assert_int_equal(hpool_register_task(NULL, NULL), HPOOL_ESTATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_its_name_and_text),
        cmocka_unit_test(codes_names_and_texts_are_distinct),
        cmocka_unit_test(codes_are_contiguous),
        cmocka_unit_test(success_and_unknown_codes),
        cmocka_unit_test(last_error_starts_empty),
        cmocka_unit_test(failing_calls_without_mpi),
        cmocka_unit_test(last_error_is_per_thread),
        cmocka_unit_test(long_messages_are_truncated),
        /* These three share the process-wide registry and run in this order. */
        cmocka_unit_test(register_argument_checks),
        cmocka_unit_test(register_until_full),
        cmocka_unit_test(register_after_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
