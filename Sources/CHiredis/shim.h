#ifndef COMBO_CHIREDIS_SHIM_H
#define COMBO_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#endif
