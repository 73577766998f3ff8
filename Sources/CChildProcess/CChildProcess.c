#define _GNU_SOURCE
#include "CChildProcess.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

pid_t combo_spawn(const char *path, char *const argv[], char *const envp[],
                  int stdin_fd, int stdout_fd, int stderr_fd, int *error) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int result = posix_spawn_file_actions_init(&actions);
    if (result != 0) { *error = result; return -1; }
    result = posix_spawnattr_init(&attributes);
    if (result != 0) {
        posix_spawn_file_actions_destroy(&actions);
        *error = result;
        return -1;
    }
    int targets[3] = {0, 1, 2};
    int sources[3] = {stdin_fd, stdout_fd, stderr_fd};
    for (int index = 0; index < 3 && result == 0; index++) {
        if (sources[index] >= 0) result = posix_spawn_file_actions_adddup2(&actions, sources[index], targets[index]);
    }
    // The parent's other descriptors (sockets, other children's pipes) stay
    // out of the child, so a pipe's reader sees its end when its child exits.
    if (result == 0) result = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    // The parent may ignore or block signals (SIGPIPE, for one); the child
    // starts with the defaults, as a process started from a shell would.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if (result == 0) result = posix_spawnattr_setsigdefault(&attributes, &all);
    if (result == 0) result = posix_spawnattr_setsigmask(&attributes, &none);
    if (result == 0) result = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    if (result == 0) result = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (result != 0) { *error = result; return -1; }
    return pid;
}
