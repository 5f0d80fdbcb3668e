/* The replay driver: main() for a fuzz target built with gcc and the
 * sanitizers, no fuzzing engine needed. It runs LLVMFuzzerTestOneInput once
 * on every file named (directories: every file inside, recursively, in
 * sorted order), each in its own forked child with a timeout, so that one
 * crash is one failure and the others still run. In the child it also
 * counts open descriptors before and after (after the target's cleanups),
 * which catches leaks the cheap per-iteration check cannot see. `make check`
 * uses it to replay the corpora and every stored regression.
 * Usage: replay [-q] [-t SECONDS] [--no-fork] PATH...
 * Description files beside regressions (*.desc), README files and dot files
 * are not inputs and are skipped. Ends with "replay: N passed, M failed".
 * Built with -D_GNU_SOURCE (asprintf, scandir), like the rest of the tree. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fz.h"

struct opts {
    int quiet, fork, timeout;
};

static int passed, failed;

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;   /* opendir's own descriptor */
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    for (size_t k; buf && (k = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += k;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    /* An exact-size copy, so ASan flags a read one past the input. */
    *data = malloc(len ? len : 1);
    if (!*data) {
        free(buf);
        return -1;
    }
    memcpy(*data, buf, len);
    free(buf);
    *size = len;
    return 0;
}

/* The body of one run: 0 when the input passed. */
static int run_one(const char *path)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (read_file(path, &data, &size) != 0) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    int before = count_fds();
    LLVMFuzzerTestOneInput(data, size);
    fz_cleanup();
    int after = count_fds();
    free(data);
    if (after != before) {
        fprintf(stderr, "replay: %s: %d descriptors open before, %d after (leak)\n", path, before,
                after);
        return 3;
    }
    return 0;
}

static void replay_file(const char *path, const struct opts *o)
{
    int status = 0;
    if (!o->fork) {
        status = run_one(path) << 8;
    } else {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            perror("replay: fork");
            exit(2);
        }
        if (pid == 0) {
            alarm((unsigned)o->timeout);   /* SIGALRM ends a hang */
            exit(run_one(path));
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            continue;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        passed++;
        if (!o->quiet)
            printf("PASS %s\n", path);
        return;
    }
    failed++;
    if (WIFSIGNALED(status))
        printf("FAIL %s (signal %d%s)\n", path, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? ": timeout" : "");
    else
        printf("FAIL %s (exit %d)\n", path, WEXITSTATUS(status));
}

static int skipped_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || strncmp(name, "README", 6) == 0 ||
           (n > 5 && strcmp(name + n - 5, ".desc") == 0);
}

static void replay_path(const char *path, const struct opts *o)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        printf("FAIL %s (%s)\n", path, strerror(errno));
        failed++;
        return;
    }
    if (!S_ISDIR(sb.st_mode)) {
        replay_file(path, o);
        return;
    }
    struct dirent **names = NULL;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        printf("FAIL %s (%s)\n", path, strerror(errno));
        failed++;
        return;
    }
    for (int i = 0; i < n; i++) {
        if (!skipped_name(names[i]->d_name)) {
            char *sub = NULL;
            if (asprintf(&sub, "%s/%s", path, names[i]->d_name) < 0) {
                perror("replay: asprintf");
                exit(2);
            }
            replay_path(sub, o);
            free(sub);
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    struct opts o = {0, 1, 10};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-q") == 0)
            o.quiet = 1;
        else if (strcmp(argv[i], "--no-fork") == 0)
            o.fork = 0;
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            o.timeout = atoi(argv[++i]);
        else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            fprintf(stderr, "usage: %s [-q] [-t SECONDS] [--no-fork] PATH...\n", argv[0]);
            return 2;
        }
    }
    if (o.timeout <= 0)
        o.timeout = 10;
    for (; i < argc; i++)
        replay_path(argv[i], &o);
    printf("replay: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
