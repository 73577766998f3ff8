#ifndef COMBO_CZLIB_SHIM_H
#define COMBO_CZLIB_SHIM_H
#include <zlib.h>
#endif
