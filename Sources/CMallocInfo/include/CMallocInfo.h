#ifndef COMBO_CMALLOCINFO_H
#define COMBO_CMALLOCINFO_H

#include <stddef.h>

/// Bytes currently allocated through malloc (glibc's mallinfo2 uordblks), or 0 where unknown.
size_t combo_malloc_allocated_bytes(void);

#endif
