#ifndef COMBO_CZMQ_SHIM_H
#define COMBO_CZMQ_SHIM_H
#include <zmq.h>
#endif
