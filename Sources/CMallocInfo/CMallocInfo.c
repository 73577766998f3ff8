#include "CMallocInfo.h"

#if defined(__linux__)
#include <malloc.h>
#endif

size_t combo_malloc_allocated_bytes(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    // Bytes in use from the heap arenas plus the large blocks malloc maps on
    // their own (big arrays), which `uordblks` alone leaves out.
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return 0;
#endif
}
