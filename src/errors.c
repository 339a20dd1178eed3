/* The error table (HPOOL_ERRNO_MAP in hpool.h) and the per-thread last-error message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"

static _Thread_local char last_error[HPOOL__MSG_MAX];

const char *hpool_strerror(int code)
{
    switch (code) {
    case HPOOL_OK:
        return "success";
#define HPOOL__STR(name, value, text) \
    case HPOOL_##name:                 \
        return text;
        HPOOL_ERRNO_MAP(HPOOL__STR)
#undef HPOOL__STR
    default:
        return "unknown error";
    }
}

const char *hpool_errname(int code)
{
    switch (code) {
    case HPOOL_OK:
        return "HPOOL_OK";
#define HPOOL__NAME(name, value, text) \
    case HPOOL_##name:                  \
        return "HPOOL_" #name;
        HPOOL_ERRNO_MAP(HPOOL__NAME)
#undef HPOOL__NAME
    default:
        return "HPOOL_UNKNOWN";
    }
}

const char *hpool_last_error(void)
{
    return last_error;
}

void hpool__clear_error(void)
{
    last_error[0] = '\0';
}

int hpool__fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}
