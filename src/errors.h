/* The library's error reporting (errors.c): every failure returns a negative HPOOL_E*
 * code and leaves a message for hpool_last_error() in the calling thread. */
#ifndef HPOOL_ERRORS_H
#define HPOOL_ERRORS_H

#include "hpool.h"

#define HPOOL__MSG_MAX 512 /* longest error message carried in a future */

/* Set this thread's last-error message (printf-style) and return `code`. */
int hpool__fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hpool__clear_error(void);

#endif
