// Files that survive a crash: the temporary name a file is written under before it is renamed
// over its target, syncs of files and directories, and the temporary files a killed process
// left behind.
#include "dcgan/error.h"
#include "dcgan/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEMP_MARK ".tmp."

void temp_path_of(char *buf, size_t n, const char *path, long pid) {
    snprintf(buf, n, "%s" TEMP_MARK "%ld", path, pid);
}

void temp_path(char *buf, size_t n, const char *path) { temp_path_of(buf, n, path, (long)getpid()); }

int file_flush(FILE *fp, const char *path, char *err, size_t errlen) {
    return fflush(fp) ? path_error(err, errlen, path, "write failed: %s", strerror(errno)) : 0;
}

int file_sync(FILE *fp, const char *path, char *err, size_t errlen) {
    if (fflush(fp) || fsync(fileno(fp))) return path_error(err, errlen, path, "write failed: %s", strerror(errno));
    return 0;
}

int dir_sync(const char *dir, char *err, size_t errlen) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return path_error(err, errlen, dir, "cannot open the directory: %s", strerror(errno));
    int rc = fsync(fd) ? path_error(err, errlen, dir, "cannot sync the directory: %s", strerror(errno)) : 0;
    close(fd);
    return rc;
}

long temp_file_pid(const char *name) {
    const char *mark = strstr(name, TEMP_MARK);
    for (const char *next; mark && (next = strstr(mark + 1, TEMP_MARK));) mark = next;
    if (!mark || mark == name) return -1;
    const char *digits = mark + strlen(TEMP_MARK);
    char *end;
    errno = 0;
    long pid = strtol(digits, &end, 10);
    return digits[0] >= '0' && digits[0] <= '9' && !*end && !errno && pid > 0 ? pid : -1;
}

// The program name of a process (/proc/PID/comm); 0 when it cannot be read.
static int program_name(const char *pid, char *out, size_t n) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/comm", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ok = fgets(out, (int)n, f) != NULL;
    fclose(f);
    return ok;
}

int temp_writer_alive(long pid) {
    if (pid == (long)getpid()) return 0;   // an earlier process that had our pid: not writing now
    if (kill((pid_t)pid, 0) && errno == ESRCH) return 0;
    char theirs[64], ours[64], id[32];
    snprintf(id, sizeof id, "%ld", pid);
    // A live process running another program got the pid of a killed one: not writing our files.
    // When /proc cannot tell, the file is kept.
    if (!program_name(id, theirs, sizeof theirs) || !program_name("self", ours, sizeof ours)) return 1;
    return !strcmp(theirs, ours);
}

int list_dir(const char *dir, dir_visit visit, void *ctx, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) return path_error(err, errlen, dir, "cannot list: %s", strerror(errno));
    int rc = 0;
    while (!rc) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) rc = path_error(err, errlen, dir, "cannot list: %s", strerror(errno));
            break;
        }
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) rc = visit(dir, e->d_name, ctx, err, errlen);
    }
    closedir(d);
    return rc < 0 ? -1 : 0;
}

static int remove_if_stale(const char *dir, const char *name, void *removed, char *err, size_t errlen) {
    long pid = temp_file_pid(name);
    if (pid < 0 || temp_writer_alive(pid)) return 0;
    char path[4352];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (unlink(path) && errno != ENOENT && errno != EISDIR)   // a directory of that name is not ours
        return path_error(err, errlen, path, "cannot remove: %s", strerror(errno));
    (*(int *)removed)++;
    return 0;
}

int remove_stale_temps(const char *dir, int *removed, char *err, size_t errlen) {
    *removed = 0;
    return list_dir(dir, remove_if_stale, removed, err, errlen);
}
