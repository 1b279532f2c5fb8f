/* Inputs to the ordered file list: natural order and its tie-break,
 * directories, dot-files, a directory named like an image, recursion
 * through a symlink loop, shuffling, dangling links counted as skipped,
 * cancellation. Every file is written in a fresh folder of its own. */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "scan.h"

static void touch(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f)
        fclose(f);
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes a tree without following the links in it. */
static void remove_tree(const char *top)
{
    nftw(top, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int same_order(const GvFileList *a, const GvFileList *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->paths[i], b->paths[i]))
            return 0;
    return 1;
}

/* Positions at which a and b (of one length) hold the same path. */
static int same_places(const GvFileList *a, const GvFileList *b)
{
    int n = 0;
    for (int i = 0; i < a->n && i < b->n; i++)
        n += !strcmp(a->paths[i], b->paths[i]);
    return n;
}

/* Every path of a is in b exactly once, and they are as many. */
static int is_permutation(const GvFileList *a, const GvFileList *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++) {
        int found = 0;
        for (int j = 0; j < b->n; j++)
            found += !strcmp(a->paths[i], b->paths[j]);
        if (found != 1)
            return 0;
    }
    return 1;
}

#define N_SHUFFLE 24

/* A shuffle reorders: for N_SHUFFLE files a seed gives a permutation of
 * the natural order that moves most of them, the same every time; another
 * seed gives another; the order the files come in does not matter. */
static void test_shuffle(const char *top)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/shuffle", top);
    CHECK(mkdir(dir, 0755) == 0);
    char names[N_SHUFFLE][16], paths[N_SHUFFLE][1024];
    const char *given[N_SHUFFLE];
    for (int i = 0; i < N_SHUFFLE; i++) {
        snprintf(names[i], sizeof(names[i]), "p%d.jpg", i + 1);
        touch(dir, names[i]);
        snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, names[i]);
        given[N_SHUFFLE - 1 - i] = paths[i]; /* backwards */
    }
    const char *inputs[] = { dir };
    GvFileList natural, s42, again, s43, backwards;
    CHECK_INT(gv_scan(inputs, 1, 0, GV_ORDER_NAME, 0, NULL, NULL, &natural), 0);
    CHECK_INT(natural.n, N_SHUFFLE);
    for (int i = 0; i < natural.n && i < N_SHUFFLE; i++)
        CHECK(!strcmp(natural.paths[i], paths[i])); /* p1 p2 ... p10 ... p24 */
    CHECK_INT(gv_scan(inputs, 1, 0, GV_ORDER_SHUFFLE, 42, NULL, NULL, &s42), 0);
    CHECK_INT(gv_scan(inputs, 1, 0, GV_ORDER_SHUFFLE, 42, NULL, NULL, &again), 0);
    CHECK_INT(gv_scan(inputs, 1, 0, GV_ORDER_SHUFFLE, 43, NULL, NULL, &s43), 0);
    CHECK_INT(gv_scan(given, N_SHUFFLE, 0, GV_ORDER_SHUFFLE, 42, NULL, NULL, &backwards), 0);
    CHECK_INT(s42.n, N_SHUFFLE);
    CHECK(is_permutation(&s42, &natural));
    CHECK(is_permutation(&s43, &natural));
    CHECK(!same_order(&s42, &natural));
    /* not a swap or two: most files move */
    CHECK(same_places(&s42, &natural) < N_SHUFFLE / 2);
    CHECK(same_places(&s43, &natural) < N_SHUFFLE / 2);
    CHECK(same_order(&s42, &again));
    CHECK(!same_order(&s42, &s43));
    CHECK(same_order(&s42, &backwards));
    gv_file_list_free(&natural);
    gv_file_list_free(&s42);
    gv_file_list_free(&again);
    gv_file_list_free(&s43);
    gv_file_list_free(&backwards);
}

int main(void)
{
    CHECK(gv_natural_cmp("img2", "img10") < 0);
    CHECK(gv_natural_cmp("img10", "img2") > 0);
    CHECK(gv_natural_cmp("a1b2", "a1b10") < 0);
    CHECK(gv_natural_cmp("x", "x0") < 0);
    /* Names equal as numbers throughout: plain byte order decides, '0'
     * before '1'. Only then: in "a01b2" against "a1b1", 2 > 1 decides. */
    CHECK(gv_natural_cmp("img01", "img1") < 0);
    CHECK(gv_natural_cmp("img1", "img01") > 0);
    CHECK(gv_natural_cmp("a1", "a01") > 0);
    CHECK(gv_natural_cmp("img001", "img01") < 0);
    CHECK(gv_natural_cmp("a01b2", "a1b1") > 0);
    CHECK(gv_natural_cmp("a1b2", "a01b2") > 0);
    CHECK(gv_natural_cmp("img007", "img7") < 0);
    CHECK(gv_natural_cmp("same", "same") == 0);
    CHECK(gv_natural_cmp("9999999999999999999999999", "10000000000000000000000000") < 0);

    const char *tmp = getenv("TMPDIR");
    char top[256], dir[300];
    snprintf(top, sizeof(top), "%s/gv_test_scan_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(top)) {
        perror(top);
        return 1;
    }
    snprintf(dir, sizeof(dir), "%s/in", top);
    CHECK(mkdir(dir, 0755) == 0);
    touch(dir, "img10.jpg");
    touch(dir, "img2.jpg");
    touch(dir, "img1.png");
    touch(dir, ".hidden.jpg");
    char sub[400], x[400], loop[500];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    mkdir(sub, 0755);
    touch(sub, "deep3.jpg");
    snprintf(x, sizeof(x), "%s/x.jpg", dir);
    mkdir(x, 0755); /* a directory named like an image is not a file */
    snprintf(loop, sizeof(loop), "%s/back", sub);
    CHECK(symlink(dir, loop) == 0); /* sub/back -> dir: a loop */

    const char *inputs[] = { dir };
    GvFileList l;
    CHECK_INT(gv_scan(inputs, 1, 0, GV_ORDER_NAME, 0, NULL, NULL, &l), 0);
    CHECK_INT(l.n, 3);
    if (l.n == 3) {
        CHECK(!strcmp(base(l.paths[0]), "img1.png"));
        CHECK(!strcmp(base(l.paths[1]), "img2.jpg"));
        CHECK(!strcmp(base(l.paths[2]), "img10.jpg"));
    }
    gv_file_list_free(&l);

    /* recursive: the loop is followed once at most; deep3 is listed once */
    CHECK_INT(gv_scan(inputs, 1, 1, GV_ORDER_NAME, 0, NULL, NULL, &l), 0);
    int deep = 0;
    for (int i = 0; i < l.n; i++)
        deep += !strcmp(base(l.paths[i]), "deep3.jpg");
    CHECK_INT(deep, 1);
    CHECK_INT(l.n, 4);
    gv_file_list_free(&l);

    /* given order keeps the inputs' order */
    char a[400], b[400];
    snprintf(a, sizeof(a), "%s/img10.jpg", dir);
    snprintf(b, sizeof(b), "%s/img2.jpg", dir);
    const char *given[] = { a, b };
    CHECK_INT(gv_scan(given, 2, 0, GV_ORDER_GIVEN, 0, NULL, NULL, &l), 0);
    CHECK(l.n == 2 && !strcmp(base(l.paths[0]), "img10.jpg"));
    gv_file_list_free(&l);
    test_shuffle(top);

    /* names equal as numbers list in plain byte order: img01 before img1 */
    char ties[300];
    snprintf(ties, sizeof(ties), "%s/ties", top);
    CHECK(mkdir(ties, 0755) == 0);
    touch(ties, "img1.jpg");
    touch(ties, "img2.jpg");
    touch(ties, "img01.jpg");
    touch(ties, "img001.jpg");
    const char *tie_inputs[] = { ties };
    CHECK_INT(gv_scan(tie_inputs, 1, 0, GV_ORDER_NAME, 0, NULL, NULL, &l), 0);
    CHECK_INT(l.n, 4);
    if (l.n == 4) {
        CHECK(!strcmp(base(l.paths[0]), "img001.jpg"));
        CHECK(!strcmp(base(l.paths[1]), "img01.jpg"));
        CHECK(!strcmp(base(l.paths[2]), "img1.jpg"));
        CHECK(!strcmp(base(l.paths[3]), "img2.jpg"));
    }
    gv_file_list_free(&l);

    /* a dangling link is left out and counted as skipped */
    char dangling[400];
    snprintf(dangling, sizeof(dangling), "%s/gone.jpg", dir);
    CHECK(symlink("/nonexistent/gridvid.jpg", dangling) == 0);
    CHECK_INT(gv_scan(inputs, 1, 0, GV_ORDER_NAME, 0, NULL, NULL, &l), 0);
    CHECK_INT(l.n, 3);
    CHECK_INT(l.skipped, 1);
    gv_file_list_free(&l);
    unlink(dangling);

    /* a cancel already set stops the listing: nothing is returned */
    atomic_int cancel = 1;
    CHECK_INT(gv_scan(inputs, 1, 1, GV_ORDER_NAME, 0, &cancel, NULL, &l), GV_ERR_CANCELLED);
    CHECK_INT(l.n, 0);

    /* a missing input is an error */
    const char *missing[] = { "/nonexistent/gridvid" };
    CHECK_INT(gv_scan(missing, 1, 0, GV_ORDER_NAME, 0, NULL, NULL, &l), -ENOENT);

    remove_tree(top);
    CHECK(access(top, F_OK) != 0);
    return check_report("test_scan");
}
