/* SPDX-License-Identifier: MIT */
/* A plain main() that replays corpus files through a libFuzzer target, so
 * make check runs every fuzz corpus without clang (jansson's
 * test/ossfuzz/standaloneengine.cc). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as with libFuzzer: weak, so NULL when absent. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs larger than this are not corpus seeds but mistakes. */
#define BNC_REPLAY_MAX (16u << 20)

struct bnc_replay {
    unsigned long ran;
    unsigned long errors;
};

/* Reads path whole into an exactly-sized buffer (so ASan sees any read past
 * the end) and runs the target on it. */
static void
bnc_replay_file(struct bnc_replay *r, const char *path)
{
    FILE *f = NULL;
    struct stat st;
    unsigned char *data = NULL;
    size_t len;

    f = fopen(path, "rb");
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        r->errors++;
        goto out;
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > BNC_REPLAY_MAX) {
        fprintf(stderr, "replay: %s: larger than %u bytes\n", path,
                BNC_REPLAY_MAX);
        r->errors++;
        goto out;
    }
    len = (size_t)st.st_size;
    /* malloc(0) may return NULL: keep one byte, pass the true length. */
    data = malloc(len ? len : 1);
    if (data == NULL) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        r->errors++;
        goto out;
    }
    if (len > 0 && fread(data, 1, len, f) != len) {
        fprintf(stderr, "replay: %s: short read\n", path);
        r->errors++;
        goto out;
    }
    /* Name the input first: if the target crashes, the log says which. */
    if (getenv("BNC_REPLAY_VERBOSE") != NULL)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    (void)LLVMFuzzerTestOneInput(data, len);
    r->ran++;
out:
    free(data);
    if (f != NULL)
        fclose(f);
}

/* Dot files (.gitignore, editor droppings) are not inputs. */
static int
bnc_replay_select(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* A directory's regular files, in name order for reproducible runs;
 * subdirectories are not entered. */
static void
bnc_replay_dir(struct bnc_replay *r, const char *dir)
{
    struct dirent **list = NULL;
    int n, i;

    n = scandir(dir, &list, bnc_replay_select, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        r->errors++;
        return;
    }
    for (i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int len = snprintf(path, sizeof(path), "%s/%s", dir,
                           list[i]->d_name);

        if (len < 0 || (size_t)len >= sizeof(path)) {
            fprintf(stderr, "replay: %s/%s: path too long\n", dir,
                    list[i]->d_name);
            r->errors++;
        } else if (stat(path, &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
            r->errors++;
        } else if (S_ISREG(st.st_mode)) {
            bnc_replay_file(r, path);
        }
        free(list[i]);
    }
    free(list);
}

static void
bnc_replay_path(struct bnc_replay *r, const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        r->errors++;
    } else if (S_ISDIR(st.st_mode)) {
        bnc_replay_dir(r, path);
    } else {
        bnc_replay_file(r, path);
    }
}

int
main(int argc, char **argv)
{
    struct bnc_replay r = {0, 0};
    const char *corpus = getenv("BNC_FUZZ_CORPUS");
    int i;

    if (LLVMFuzzerInitialize != NULL)
        (void)LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++)
        bnc_replay_path(&r, argv[i]);
    if (corpus != NULL && *corpus != '\0')
        bnc_replay_dir(&r, corpus);
    fprintf(stderr, "replay: %s: %lu inputs run, %lu unreadable\n",
            argc > 0 ? argv[0] : "?", r.ran, r.errors);
    if (r.ran == 0 && r.errors == 0) {
        /* No input at all means a wrong path or an empty corpus: a replay
         * that tests nothing must not pass. */
        fprintf(stderr, "usage: %s FILE|DIR... (or set BNC_FUZZ_CORPUS)\n",
                argc > 0 ? argv[0] : "replay");
        return 2;
    }
    return r.errors ? 1 : 0;
}
