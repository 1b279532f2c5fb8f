/* Inputs to the ordered file list: natural order, directories, dot-files,
 * a directory named like an image, recursion through a symlink loop,
 * dangling links counted as skipped, cancellation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "scan.h"

static void touch(const char *dir, const char *name)
{
    char p[512];
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

int main(void)
{
    CHECK(gv_natural_cmp("img2", "img10") < 0);
    CHECK(gv_natural_cmp("img10", "img2") > 0);
    CHECK(gv_natural_cmp("a1b2", "a1b10") < 0);
    CHECK(gv_natural_cmp("x", "x0") < 0);
    CHECK(gv_natural_cmp("img01", "img1") != 0); /* ties broken by plain order */
    CHECK(gv_natural_cmp("img007", "img7") < 0);
    CHECK(gv_natural_cmp("same", "same") == 0);
    CHECK(gv_natural_cmp("9999999999999999999999999", "10000000000000000000000000") < 0);

    char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/gv_test_scan_%d", (int)getpid());
    mkdir(dir, 0755);
    touch(dir, "img10.jpg");
    touch(dir, "img2.jpg");
    touch(dir, "img1.png");
    touch(dir, ".hidden.jpg");
    char sub[128], x[128], loop[160];
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

    /* given order keeps the inputs' order; shuffle is reproducible */
    char a[128], b[128];
    snprintf(a, sizeof(a), "%s/img10.jpg", dir);
    snprintf(b, sizeof(b), "%s/img2.jpg", dir);
    const char *given[] = { a, b };
    CHECK_INT(gv_scan(given, 2, 0, GV_ORDER_GIVEN, 0, NULL, NULL, &l), 0);
    CHECK(l.n == 2 && !strcmp(base(l.paths[0]), "img10.jpg"));
    gv_file_list_free(&l);
    GvFileList s1, s2;
    CHECK_INT(gv_scan(inputs, 1, 1, GV_ORDER_SHUFFLE, 42, NULL, NULL, &s1), 0);
    CHECK_INT(gv_scan(inputs, 1, 1, GV_ORDER_SHUFFLE, 42, NULL, NULL, &s2), 0);
    int same = s1.n == s2.n;
    for (int i = 0; same && i < s1.n; i++)
        same = !strcmp(s1.paths[i], s2.paths[i]);
    CHECK(same);
    gv_file_list_free(&s1);
    gv_file_list_free(&s2);

    /* a dangling link is left out and counted as skipped */
    char dangling[160];
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

    unlink(loop);
    char p[200];
    snprintf(p, sizeof(p), "%s/deep3.jpg", sub);
    unlink(p);
    rmdir(sub);
    rmdir(x);
    const char *names[] = { "img10.jpg", "img2.jpg", "img1.png", ".hidden.jpg" };
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    return check_report("test_scan");
}
