#ifndef COMBO_CHILD_PROCESS_H
#define COMBO_CHILD_PROCESS_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` (NULL-terminated), its standard
/// input, output and error on the given descriptors (-1: the parent's own),
/// every other descriptor closed, default signal dispositions and an empty
/// signal mask. Returns the child's pid, or -1 with `*error` set to an errno.
pid_t combo_spawn(const char *path, char *const argv[], char *const envp[],
                  int stdin_fd, int stdout_fd, int stderr_fd, int *error);

#endif
