#ifndef COMBO_CZMQ_SHIM_H
#define COMBO_CZMQ_SHIM_H
#include <zmq.h>
#include <poll.h>
#ifdef __linux__
#include <sys/eventfd.h>
#include <sys/prctl.h>

/* Names the calling thread (prctl is variadic, which Swift cannot call). */
static inline void combo_zmq_name_thread(const char *name) {
    prctl(PR_SET_NAME, name, 0, 0, 0);
}
#endif
#endif
