/* hpool_version(): the version the library was built as, from the same header macros a
 * program compiles against; a program linked against another build sees the difference. */
#include "hpool.h"

const char *hpool_version(void)
{
    return HPOOL_VERSION;
}
