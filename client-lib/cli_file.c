/*
 * Durable local files for the commands that resume (sync, audit pull):
 * whole writes, fsync of files and of their directory entries, an
 * exclusive lock beside a state file, and atomic replacement of a small
 * state file (temp + fsync + rename + fsync of the directory), so that a
 * crash at any point leaves either the old state or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"

int cli_file_error(const char *what, const char *path)
{
    fprintf(stderr, "ritra: %s %s: %s\n", what, path, strerror(errno));
    return CLI_EXIT_INTERNAL;
}

int cli_file_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int cli_file_sync_fd(int fd)
{
    /* Pipes and terminals have nothing to sync. */
    return fsync(fd) == 0 || errno == EINVAL || errno == EROFS ? 0 : -1;
}

int cli_file_sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir =
        slash == NULL ? strdup(".") : strndup(path, slash == path ? 1 : (size_t)(slash - path));
    int fd, rc = -1;

    if (dir == NULL)
        return -1;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        rc = cli_file_sync_fd(fd);
        close(fd);
    }
    free(dir);
    return rc;
}

int cli_file_lock(const char *state, const char *who, int *fd)
{
    size_t len = strlen(state) + sizeof(".lock");
    char *path = malloc(len);
    char busy[96];
    int rc = CLI_EXIT_OK;

    if (path == NULL)
        return CLI_EXIT_INTERNAL;
    snprintf(path, len, "%s.lock", state);
    snprintf(busy, sizeof(busy), "another %s is using this state", who);
    /* Locked, not just present: a crashed run leaves no stale lock. */
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        rc = cli_input_error("cannot open %s: %s", path, strerror(errno));
    else if (flock(*fd, LOCK_EX | LOCK_NB) < 0)
        rc = cli_input_error("%s: %s", path, errno == EWOULDBLOCK ? busy : strerror(errno));
    free(path);
    return rc;
}

int cli_file_replace(const char *path, const char *content)
{
    size_t len = strlen(path) + sizeof(".XXXXXX");
    char *tmp = malloc(len);
    int fd = -1, rc = CLI_EXIT_INTERNAL;

    if (tmp == NULL)
        return CLI_EXIT_INTERNAL;
    snprintf(tmp, len, "%s.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = cli_file_error("cannot create", tmp);
        goto done;
    }
    if (cli_file_write_all(fd, content, strlen(content)) < 0 || fsync(fd) < 0) {
        rc = cli_file_error("cannot write", tmp);
        goto done;
    }
    if (close(fd) < 0) {
        fd = -1;
        rc = cli_file_error("cannot write", tmp);
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        rc = cli_file_error("cannot rename over", path);
        goto done;
    }
    free(tmp);
    /* Renamed already: nothing left to clean up, whatever this says. */
    return cli_file_sync_dir_of(path) < 0 ? cli_file_error("cannot sync the directory of", path)
                                          : CLI_EXIT_OK;
done:
    if (fd >= 0)
        close(fd);
    (void)unlink(tmp);
    free(tmp);
    return rc;
}
