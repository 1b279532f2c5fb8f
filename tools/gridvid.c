/*
 * gridvid: the command-line tool. Uses only the public API.
 *
 * Settings come from four layers, each overriding the one before:
 * defaults, a .env file, environment variables, command-line flags.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <gridvid/gridvid.h>

#define EXIT_USAGE 2
#define EXIT_BAD_INPUT 3
#define EXIT_CANCELLED 130
/* A .env file is a few lines; anything this big is a mistake. */
#define MAX_ENV_FILE (16 << 20)

typedef enum ProgressMode {
    PROGRESS_AUTO = 0, /* a redrawn line when stderr is a terminal, else none */
    PROGRESS_NONE,
    PROGRESS_PLAIN,    /* a line per update on stdout */
    PROGRESS_JSON,     /* a JSON object per update on stdout */
    PROGRESS_LINE,     /* what AUTO becomes on a terminal */
} ProgressMode;

/* A flag's setting, applied after the environment. */
typedef struct Assign {
    int key;
    const char *value;
    const char *flag;
} Assign;

typedef struct Cli {
    int n_keys;
    const char **inputs;
    int n_inputs;
    Assign *flags;
    int n_flags;
    const char *env_file; /* NULL: ./.env, silently optional */
    int demo, quiet, verbose, help, version, dry_run;
    ProgressMode progress;

    /* The .env file's value per key (owned copies: the parser's storage
     * is scratch, and settings borrow their strings), and its line. */
    char **dotenv;
    int *dotenv_line;
    const char *dotenv_path;

    /* While running */
    int errors_logged;
    int line_len;      /* characters of the progress line now on the terminal */
    int rate_started;
    double rate_t0;
    int64_t rate_f0;
} Cli;

/* The context a signal cancels; a lock-free atomic, so the handler may
 * read it. */
static _Atomic(GvContext *) running;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static const GvSettingInfo *info(const int k)
{
    return gv_setting_info(k);
}

static int find_key(const Cli *cli, const char *key)
{
    for (int k = 0; k < cli->n_keys; k++)
        if (!strcmp(info(k)->key, key))
            return k;
    return -1;
}

/* Edit distance counting a swap of neighbours as one edit (the usual
 * typo), for "did you mean"; long strings are not compared. */
static int distance(const char *a, const char *b)
{
    enum { MAX = 64 };
    const size_t la = strlen(a), lb = strlen(b);
    if (la > MAX || lb > MAX)
        return MAX;
    int rows[3][MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        rows[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int *const cur = rows[i % 3];
        const int *const prev = rows[(i - 1) % 3], *const prev2 = rows[(i + 1) % 3];
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            const int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            const int del = prev[j] + 1, ins = cur[j - 1] + 1;
            int d = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            cur[j] = d;
        }
    }
    return rows[la % 3][lb];
}

static const char *const cli_flags[] = {
    "--demo", "--env-file", "--progress", "--quiet", "--verbose", "--help", "--version",
    "--dry-run",
};

/* The known flag nearest to name (up to '='), or NULL when none is close. */
static const char *suggest_flag(const Cli *cli, const char *arg)
{
    char name[80];
    const size_t n = strcspn(arg, "=");
    if (n >= sizeof(name))
        return NULL;
    memcpy(name, arg, n);
    name[n] = '\0';
    const char *best = NULL;
    int best_d = n > 6 ? 3 : 2;
    for (int k = 0; k < cli->n_keys; k++) {
        const char *const f = info(k)->flag;
        /* An abbreviation is the likeliest slip: --dur for --duration. */
        if (n > 3 && !strncmp(f, name, n))
            return f;
        const int d = distance(name, f);
        if (d < best_d) {
            best_d = d;
            best = f;
        }
    }
    for (size_t i = 0; i < sizeof(cli_flags) / sizeof(cli_flags[0]); i++) {
        if (n > 3 && !strncmp(cli_flags[i], name, n))
            return cli_flags[i];
        const int d = distance(name, cli_flags[i]);
        if (d < best_d) {
            best_d = d;
            best = cli_flags[i];
        }
    }
    return best;
}

/* A key that differs from one of ours by a typo, or only by case. */
static const char *suggest_key(const Cli *cli, const char *key)
{
    const size_t n = strlen(key);
    for (int k = 0; k < cli->n_keys; k++) {
        const char *const our = info(k)->key;
        if (strlen(our) == n) {
            size_t i = 0;
            while (i < n && (key[i] == our[i] || (key[i] >= 'a' && key[i] <= 'z' &&
                                                  key[i] - 'a' + 'A' == our[i])))
                i++;
            if (i == n)
                return our;
        }
        if (distance(key, our) <= (strlen(our) >= 6 ? 2 : 1))
            return our;
    }
    return NULL;
}

static void usage_hint(void)
{
    fprintf(stderr, "Try 'gridvid --help' for more information.\n");
}

/* ------------------------------------------------------------------ */
/* Help                                                                */

static void print_option(const char *left, const char *help, const char *key, const char *def)
{
    const int col = 31;
    const int n = printf("  %s", left);
    if (n >= col)
        printf("\n%*s", col, "");
    else
        printf("%*s", col - n, "");
    printf("%s\n", help);
    if (key)
        printf("%*s%s, default %s\n", col, "", key, def ? def : "none");
}

static void print_help(const Cli *cli)
{
    printf("gridvid %s: turns a folder of images into a video of a sliding photo wall.\n\n",
           gv_version_string());
    printf("usage: gridvid [OPTIONS] INPUT... [-o OUTPUT]\n"
           "       gridvid --demo [-o OUTPUT]\n"
           "       gridvid [OPTIONS] INPUT... --preview FRAME.png [--at SECONDS]\n\n"
           "INPUT is a directory (its files, in natural order: img2 before img10) or a file;\n"
           "files that are not images are skipped with a warning.\n\n"
           "Settings. Each is also read from the environment variable named KEY, and\n"
           "from KEY=value lines in ./.env (or --env-file); a flag wins over the\n"
           "environment, which wins over .env. Write flags as '--fps 25' or '--fps=25'.\n");
    for (int k = 0; k < cli->n_keys; k++) {
        const GvSettingInfo *const in = info(k);
        char left[128];
        const int is_output = !strcmp(in->key, "OUTPUT_FILENAME");
        snprintf(left, sizeof(left), "%s%s%s%s", is_output ? "-o, " : "", in->flag,
                 in->arg ? " " : "", in->arg ? in->arg : "");
        print_option(left, in->help, in->key, in->def);
    }
    printf("\nCommand line only:\n");
    print_option("--demo", "render built-in generated images instead of INPUTs;", NULL, NULL);
    print_option("", "the output is still output.mp4 unless -o says otherwise", NULL, NULL);
    print_option("--env-file PATH", "read settings from PATH instead of ./.env (PATH must exist)",
                 NULL, NULL);
    print_option("--progress MODE", "auto: one redrawn line when stderr is a terminal;", NULL,
                 NULL);
    print_option("", "none; plain or json: a line per update on stdout", NULL, NULL);
    print_option("--dry-run", "print the plan (inputs, rows, tiles, travel, frames, encoder)",
                 NULL, NULL);
    print_option("", "without decoding pixels or writing anything", NULL, NULL);
    print_option("-q, --quiet", "errors only: no warnings, progress or summary", NULL, NULL);
    print_option("-v, --verbose", "also informational messages", NULL, NULL);
    print_option("-h, --help", "show this help", NULL, NULL);
    print_option("--version", "show the version", NULL, NULL);
    print_option("--", "everything after it is an INPUT", NULL, NULL);
    printf("\nSwitches (options shown without an argument) also take '=BOOL', e.g. --strict=no.\n"
           "Booleans are true/false, 1/0, yes/no or on/off. Empty values in the environment\n"
           "or .env are ignored. Unknown keys in .env are ignored, since the file may serve\n"
           "other programs; a key that looks like a misspelt gridvid key gets a warning.\n\n"
           "Exit status: 0 done, 1 failure while running, 2 bad usage or setting,\n"
           "3 bad input (with --strict, or no usable image), 130 interrupted.\n");
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */

static void add_flag(Cli *cli, const int key, const char *value, const char *flag)
{
    cli->flags[cli->n_flags++] = (Assign){ key, value, flag };
}

static int parse_progress(Cli *cli, const char *v)
{
    static const struct {
        const char *name;
        ProgressMode mode;
    } modes[] = {
        { "auto", PROGRESS_AUTO }, { "none", PROGRESS_NONE }, { "off", PROGRESS_NONE },
        { "plain", PROGRESS_PLAIN }, { "json", PROGRESS_JSON },
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (!strcmp(v, modes[i].name)) {
            cli->progress = modes[i].mode;
            return 0;
        }
    }
    fprintf(stderr, "gridvid: --progress: '%s' is not valid: expected auto, none, plain or json\n",
            v);
    return -1;
}

/* The value of an option: after '=', or the next argument. */
static const char *option_value(const char *arg, const char *eq, int *i, const int argc,
                                char **argv, const char *placeholder)
{
    if (eq)
        return eq + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    fprintf(stderr, "gridvid: option %s needs a value (%s)\n", arg, placeholder);
    usage_hint();
    return NULL;
}

static int parse_args(Cli *cli, const int argc, char **argv)
{
    int only_inputs = 0;
    const int output_key = find_key(cli, "OUTPUT_FILENAME");
    for (int i = 1; i < argc; i++) {
        const char *const a = argv[i];
        if (only_inputs || a[0] != '-' || !a[1]) {
            cli->inputs[cli->n_inputs++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_inputs = 1;
            continue;
        }
        if (a[1] != '-') {
            if (a[1] == 'o' && output_key >= 0) {
                const char *const v = a[2] ? a + 2 : option_value(a, NULL, &i, argc, argv, "FILE");
                if (!v)
                    return -1;
                add_flag(cli, output_key, v, "-o");
                continue;
            }
            if (!strcmp(a, "-h")) {
                cli->help = 1;
                continue;
            }
            if (!strcmp(a, "-q")) {
                cli->quiet = 1;
                continue;
            }
            if (!strcmp(a, "-v")) {
                cli->verbose = 1;
                continue;
            }
            fprintf(stderr, "gridvid: unknown option '%s'\n", a);
            usage_hint();
            return -1;
        }

        const char *const eq = strchr(a, '=');
        const size_t n = eq ? (size_t)(eq - a) : strlen(a);
#define IS(name) (n == sizeof(name) - 1 && !strncmp(a, name, n))
        if (IS("--help") || IS("--version") || IS("--demo") || IS("--quiet") ||
            IS("--verbose") || IS("--dry-run")) {
            if (eq) {
                fprintf(stderr, "gridvid: option %.*s takes no value\n", (int)n, a);
                usage_hint();
                return -1;
            }
            cli->help |= IS("--help");
            cli->version |= IS("--version");
            cli->demo |= IS("--demo");
            cli->quiet |= IS("--quiet");
            cli->verbose |= IS("--verbose");
            cli->dry_run |= IS("--dry-run");
            continue;
        }
        if (IS("--env-file")) {
            if (!(cli->env_file = option_value(a, eq, &i, argc, argv, "PATH")))
                return -1;
            continue;
        }
        if (IS("--progress")) {
            const char *const v = option_value(a, eq, &i, argc, argv, "auto|none|plain|json");
            if (!v || parse_progress(cli, v) < 0)
                return -1;
            continue;
        }
#undef IS
        int key = -1;
        for (int k = 0; k < cli->n_keys && key < 0; k++) {
            const char *const f = info(k)->flag;
            if (f && strlen(f) == n && !strncmp(a, f, n))
                key = k;
        }
        if (key < 0) {
            const char *const hint = suggest_flag(cli, a);
            if (hint)
                fprintf(stderr, "gridvid: unknown option '%.*s' (did you mean %s?)\n", (int)n, a,
                        hint);
            else
                fprintf(stderr, "gridvid: unknown option '%.*s'\n", (int)n, a);
            usage_hint();
            return -1;
        }
        const GvSettingInfo *const in = info(key);
        const char *v;
        if (!in->arg)
            v = eq ? eq + 1 : "true";
        else if (!(v = option_value(in->flag, eq, &i, argc, argv, in->arg)))
            return -1;
        add_flag(cli, key, v, in->flag);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* .env                                                                */

static int on_env_pair(void *opaque, const char *key, const char *value, const int line)
{
    Cli *const cli = opaque;
    const int k = find_key(cli, key);
    if (k < 0) {
        const char *const hint = suggest_key(cli, key);
        if (hint && !cli->quiet)
            fprintf(stderr,
                    "gridvid: warning: %s line %d: unknown key %s ignored (did you mean %s?)\n",
                    cli->dotenv_path, line, key, hint);
        else if (cli->verbose && !cli->quiet)
            fprintf(stderr, "gridvid: %s line %d: key %s is not gridvid's, ignored\n",
                    cli->dotenv_path, line, key);
        return 0;
    }
    char *const copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    free(cli->dotenv[k]);
    cli->dotenv[k] = copy;
    cli->dotenv_line[k] = line;
    return 0;
}

static int read_file(FILE *f, char **out, size_t *len)
{
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_ENV_FILE) {
                free(buf);
                return -EFBIG;
            }
            char *const t = realloc(buf, cap * 2);
            if (!t) {
                free(buf);
                return -ENOMEM;
            }
            buf = t;
            cap *= 2;
        }
        const size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                const int err = errno ? errno : EIO;
                free(buf);
                return -err;
            }
            break;
        }
    }
    *out = buf;
    *len = n;
    return 0;
}

static int load_env_file(Cli *cli)
{
    const char *const path = cli->env_file ? cli->env_file : ".env";
    cli->dotenv_path = path;
    FILE *const f = fopen(path, "rb");
    if (!f) {
        if (!cli->env_file && errno == ENOENT)
            return 0;
        fprintf(stderr, "gridvid: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    int ret = read_file(f, &text, &len);
    fclose(f);
    if (ret < 0) {
        fprintf(stderr, "gridvid: %s: %s\n", path,
                ret == -EFBIG ? "too large for a settings file" : strerror(-ret));
        return -1;
    }
    char err[512];
    ret = gv_env_parse(text, len, on_env_pair, cli, err, sizeof(err));
    free(text);
    if (ret < 0) {
        /* Name the file actually read instead of the parser's generic ".env". */
        static const char generic[] = ".env ";
        if (!strncmp(err, generic, sizeof(generic) - 1))
            fprintf(stderr, "gridvid: %s %s\n", path, err + sizeof(generic) - 1);
        else
            fprintf(stderr, "gridvid: %s: %s\n", path, *err ? err : strerror(-ret));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Layers                                                              */

static int apply_layers(Cli *cli, GvSettings *s)
{
    int ret = -1;
    char err[512];
    unsigned char *const flagged = calloc((size_t)cli->n_keys, 1);
    const char **const env = calloc((size_t)cli->n_keys, sizeof(*env));
    if (!flagged || !env) {
        fprintf(stderr, "gridvid: out of memory\n");
        goto end;
    }
    /* A value a higher layer replaces is not even parsed, so a stale bad
     * value below does not stop a run that overrides it. */
    for (int i = 0; i < cli->n_flags; i++)
        flagged[cli->flags[i].key] = 1;
    for (int k = 0; k < cli->n_keys; k++) {
        const char *const v = flagged[k] ? NULL : getenv(info(k)->key);
        env[k] = v && *v ? v : NULL;
    }
    for (int k = 0; k < cli->n_keys; k++) {
        const char *const v = cli->dotenv[k];
        if (flagged[k] || env[k] || !v || !*v)
            continue;
        if (gv_settings_set(s, info(k)->key, v, err, sizeof(err)) < 0) {
            fprintf(stderr, "gridvid: %s (from %s line %d)\n", err, cli->dotenv_path,
                    cli->dotenv_line[k]);
            goto end;
        }
    }
    for (int k = 0; k < cli->n_keys; k++) {
        if (env[k] && gv_settings_set(s, info(k)->key, env[k], err, sizeof(err)) < 0) {
            fprintf(stderr, "gridvid: %s (from the environment)\n", err);
            goto end;
        }
    }
    for (int i = 0; i < cli->n_flags; i++) {
        const Assign *const f = &cli->flags[i];
        if (gv_settings_set(s, info(f->key)->key, f->value, err, sizeof(err)) < 0) {
            fprintf(stderr, "gridvid: %s (from %s)\n", err, f->flag);
            goto end;
        }
    }
    ret = 0;
end:
    free(flagged);
    free(env);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Running: log, progress, signals, summary                           */

static void clear_line(Cli *cli)
{
    if (cli->line_len > 0) {
        fprintf(stderr, "\r%*s\r", cli->line_len, "");
        cli->line_len = 0;
    }
}

/*
 * Messages name files, and a file name may hold any byte but '/' and NUL:
 * a newline in it would forge a line of its own ("gridvid: error: ..."),
 * an escape sequence would drive the terminal. Control bytes are written
 * as \xNN; UTF-8 passes as it is. One line per call, whole, even when
 * threads log at once.
 */
static void print_message(const char *prefix, const char *msg)
{
    flockfile(stderr);
    fputs(prefix, stderr);
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            fprintf(stderr, "\\x%02x", *p);
        else
            putc_unlocked(*p, stderr);
    }
    putc_unlocked('\n', stderr);
    funlockfile(stderr);
}

static void on_log(void *opaque, const GvLogLevel level, const char *msg)
{
    Cli *const cli = opaque;
    clear_line(cli);
    switch (level) {
    case GV_LOG_ERROR:
        cli->errors_logged++;
        print_message("gridvid: error: ", msg);
        break;
    case GV_LOG_WARNING:
        print_message("gridvid: warning: ", msg);
        break;
    case GV_LOG_INFO:
        print_message("gridvid: ", msg);
        break;
    case GV_LOG_DEBUG:
    default:
        print_message("gridvid: debug: ", msg);
        break;
    }
}

static const char *phase_name(const GvPhase p)
{
    switch (p) {
    case GV_PHASE_SCAN: return "scan";
    case GV_PHASE_RENDER: return "render";
    case GV_PHASE_FINISH: return "finish";
    }
    return "unknown";
}

static void format_eta(char *buf, const size_t size, const double eta)
{
    if (!(eta >= 0) || eta > 359999) {
        snprintf(buf, size, "--:--");
        return;
    }
    const long t = (long)(eta + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void on_progress(void *opaque, const GvProgress *p)
{
    Cli *const cli = opaque;
    /* The rate counts from the first render update, so scanning time does
     * not make the first estimates too slow. */
    if (p->phase == GV_PHASE_RENDER && !cli->rate_started) {
        cli->rate_started = 1;
        cli->rate_t0 = p->elapsed_s;
        cli->rate_f0 = p->frames_done;
    }
    double fps = -1, eta = -1;
    const double dt = p->elapsed_s - cli->rate_t0;
    if (cli->rate_started && dt > 0.1 && p->frames_done > cli->rate_f0) {
        fps = (double)(p->frames_done - cli->rate_f0) / dt;
        if (p->frames_total >= p->frames_done)
            eta = (double)(p->frames_total - p->frames_done) / fps;
    }
    char eta_text[32];
    format_eta(eta_text, sizeof(eta_text), eta);

    switch (cli->progress) {
    case PROGRESS_LINE: {
        char line[160];
        if (p->phase == GV_PHASE_SCAN && !p->images_total)
            snprintf(line, sizeof(line), "scan: reading inputs");
        else if (p->phase == GV_PHASE_SCAN)
            snprintf(line, sizeof(line), "scan: %d images", p->images_total);
        else if (fps >= 0)
            snprintf(line, sizeof(line), "%s: %" PRId64 "/%" PRId64 " frames, %.1f fps, ETA %s",
                     phase_name(p->phase), p->frames_done, p->frames_total, fps, eta_text);
        else
            snprintf(line, sizeof(line), "%s: %" PRId64 "/%" PRId64 " frames",
                     phase_name(p->phase), p->frames_done, p->frames_total);
        const int n = (int)strlen(line);
        fprintf(stderr, "\r%s%*s", line, cli->line_len > n ? cli->line_len - n : 0, "");
        fflush(stderr);
        cli->line_len = n;
        break;
    }
    case PROGRESS_PLAIN:
        printf("%s %" PRId64 "/%" PRId64 " frames", phase_name(p->phase), p->frames_done,
               p->frames_total);
        if (fps >= 0)
            printf(" %.2f fps", fps);
        if (eta >= 0)
            printf(" eta %.1f s", eta);
        printf("\n");
        fflush(stdout);
        break;
    case PROGRESS_JSON:
        printf("{\"phase\":\"%s\",\"frame\":%" PRId64 ",\"frames\":%" PRId64,
               phase_name(p->phase), p->frames_done, p->frames_total);
        if (fps >= 0)
            printf(",\"fps\":%.3f", fps);
        else
            printf(",\"fps\":null");
        if (eta >= 0)
            printf(",\"eta\":%.3f", eta);
        else
            printf(",\"eta\":null");
        printf(",\"elapsed\":%.3f,\"images\":%d,\"skipped\":%d}\n", p->elapsed_s,
               p->images_total, p->images_skipped);
        fflush(stdout);
        break;
    default:
        break;
    }
}

static void on_signal(const int sig)
{
    (void)sig;
    GvContext *const ctx = atomic_load(&running);
    if (ctx)
        gv_cancel(ctx);
}

static void set_signals(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A closed terminal stops the run cleanly too, unless nohup asked for
     * the hangup to be ignored. */
    if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL);
    /* A reader of --progress output that goes away must not kill the run
     * half-way, which would leave its temporary file behind. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    /* Past a file-size limit (ulimit -f) a write then fails with EFBIG,
     * which the library reports naming the output and cleans up after,
     * rather than the process being killed with its temporary left. */
    sigaction(SIGXFSZ, &sa, NULL);
}

static int exit_status(const int ret)
{
    switch (ret) {
    case 0: return 0;
    case GV_ERR_SETTING: return EXIT_USAGE;
    case GV_ERR_BAD_INPUT: return EXIT_BAD_INPUT;
    case GV_ERR_CANCELLED: return EXIT_CANCELLED;
    default: return 1;
    }
}

static void json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void on_plan(void *opaque, const char *line)
{
    (void)opaque;
    printf("%s\n", line);
}

static void print_summary(const Cli *cli, const GvSettings *s, const GvSummary *sum,
                          const int status)
{
    const char *const out = s->preview ? s->preview : s->output;
    if (cli->progress == PROGRESS_JSON) {
        printf("{\"phase\":\"done\",\"exit\":%d,\"output\":", status);
        if (status)
            printf("null");
        else
            json_string(out);
        printf(",\"frames\":%" PRId64 ",\"images\":%d,\"skipped\":%d,\"seconds\":%.3f,"
               "\"bytes\":%" PRId64 ",\"encoder\":",
               sum->frames, sum->images_used, sum->images_skipped, sum->seconds,
               sum->output_bytes);
        json_string(sum->encoder);
        printf(",\"compositor\":");
        json_string(sum->compositor);
        printf(",\"gpu_scaled\":%d,\"gpu_decoded\":%d,\"gpu_decode_refused\":%d,\"clips\":%d,"
               "\"clips_hw\":%d,\"cpu_s\":%.3f,\"encoder_cpu_s\":",
               sum->tiles_gpu_scaled, sum->tiles_engine, sum->tiles_engine_refused, sum->clips,
               sum->clips_hw, sum->cpu_s);
        if (sum->encoder_cpu_s < 0)
            printf("null}\n");
        else
            printf("%.3f}\n", sum->encoder_cpu_s);
        fflush(stdout);
    }
    if (status)
        return;
    char what[96];
    if (s->preview)
        snprintf(what, sizeof(what), "frame at %g s", s->preview_at);
    else
        snprintf(what, sizeof(what), "%" PRId64 " frame%s", sum->frames, sum->frames == 1 ? "" : "s");
    char size[32];
    const double bytes = (double)sum->output_bytes;
    if (bytes >= 1e6)
        snprintf(size, sizeof(size), "%.1f MB", bytes / 1e6);
    else
        snprintf(size, sizeof(size), "%.1f kB", bytes / 1e3);
    fprintf(stderr, "gridvid: wrote %s (%s): %s from %d image%s (%d skipped) in %.1f s", out, size,
            what, sum->images_used, sum->images_used == 1 ? "" : "s", sum->images_skipped,
            sum->seconds);
    if (!s->preview && sum->encoder[0])
        fprintf(stderr, ", encoder %.64s", sum->encoder);
    if (sum->compositor[0])
        fprintf(stderr, ", compositor %.64s", sum->compositor);
    if (sum->tiles_gpu_scaled > 0)
        fprintf(stderr, ", %d image%s scaled on the GPU", sum->tiles_gpu_scaled,
                sum->tiles_gpu_scaled == 1 ? "" : "s");
    if (sum->tiles_engine > 0)
        fprintf(stderr, ", %d decoded on the GPU's JPEG engine", sum->tiles_engine);
    if (sum->clips > 0)
        fprintf(stderr, ", %d clip%s (%d by a hardware decoder)", sum->clips,
                sum->clips == 1 ? "" : "s", sum->clips_hw);
    fprintf(stderr, "\n");
}

static int run(Cli *cli, const GvSettings *s)
{
    GvContext *ctx = NULL;
    GvSummary sum;
    memset(&sum, 0, sizeof(sum));
    int ret = gv_open(&ctx, s);
    if (ret == 0) {
        atomic_store(&running, ctx);
        set_signals();
        ret = gv_run(ctx);
        /* Signals now would find a context being freed: hold them until
         * exit; the run is over anyway. */
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGHUP);
        sigprocmask(SIG_BLOCK, &block, NULL);
        atomic_store(&running, NULL);
        gv_get_summary(ctx, &sum);
        gv_close(&ctx);
    }
    clear_line(cli);
    const int status = exit_status(ret);
    if (ret == GV_ERR_CANCELLED) {
        if (!cli->quiet)
            fprintf(stderr, "gridvid: interrupted\n");
    } else if (ret < 0 && !cli->errors_logged) {
        fprintf(stderr, "gridvid: error: %s\n", gv_strerror(ret));
    }
    if (!cli->quiet && !s->dry_run)
        print_summary(cli, s, &sum, status);
    return status;
}

/* ------------------------------------------------------------------ */

/*
 * glibc gives each thread that allocates its own arena, up to 8 per core,
 * and keeps what is freed there: with 16 decoding threads, a clip's
 * pictures and libvips' buffers freed on one thread stay with that arena.
 * Four arenas measured about 230 MB less at the peak of the clips
 * benchmark on 16 cores (1505 MB against 1734), at the same speed
 * (docs/PERFORMANCE.md). MALLOC_ARENA_MAX, when set, decides.
 */
static void malloc_policy(void)
{
#ifdef __GLIBC__
    const char *const arenas = getenv("MALLOC_ARENA_MAX");
    if (!arenas || !*arenas)
        mallopt(M_ARENA_MAX, 4);
#endif
}

int main(int argc, char **argv)
{
    malloc_policy();
    Cli cli;
    memset(&cli, 0, sizeof(cli));
    GvSettings s;
    gv_default_settings(&s);
    int status = EXIT_USAGE;

    cli.n_keys = gv_setting_count();
    const size_t slots = argc > 0 ? (size_t)argc : 1;
    cli.inputs = calloc(slots, sizeof(*cli.inputs));
    cli.flags = calloc(slots, sizeof(*cli.flags));
    cli.dotenv = calloc((size_t)cli.n_keys + 1, sizeof(*cli.dotenv));
    cli.dotenv_line = calloc((size_t)cli.n_keys + 1, sizeof(*cli.dotenv_line));
    if (!cli.inputs || !cli.flags || !cli.dotenv || !cli.dotenv_line) {
        fprintf(stderr, "gridvid: out of memory\n");
        status = 1;
        goto end;
    }

    if (parse_args(&cli, argc, argv) < 0)
        goto end;
    if (cli.help) {
        print_help(&cli);
        status = 0;
        goto end;
    }
    if (cli.version) {
        printf("gridvid %s\n", gv_version_string());
        status = 0;
        goto end;
    }
    if (load_env_file(&cli) < 0 || apply_layers(&cli, &s) < 0)
        goto end;
    if (!cli.demo && !cli.n_inputs) {
        fprintf(stderr, "gridvid: no input: name directories or image files, or use --demo\n"
                        "usage: gridvid [OPTIONS] INPUT... [-o OUTPUT]\n");
        usage_hint();
        goto end;
    }
    if (cli.demo && cli.n_inputs && !cli.quiet)
        fprintf(stderr, "gridvid: warning: --demo renders generated images; INPUTs ignored\n");

    s.inputs = cli.inputs;
    s.n_inputs = cli.n_inputs;
    s.demo = cli.demo;
    if (cli.dry_run) {
        s.dry_run = 1;
        s.plan = on_plan;
    }
    s.log = on_log;
    s.log_opaque = &cli;
    s.log_level = cli.quiet ? GV_LOG_ERROR : cli.verbose ? GV_LOG_INFO : GV_LOG_WARNING;
    if (cli.quiet)
        cli.progress = PROGRESS_NONE;
    else if (cli.progress == PROGRESS_AUTO)
        cli.progress = isatty(STDERR_FILENO) ? PROGRESS_LINE : PROGRESS_NONE;
    if (cli.progress != PROGRESS_NONE) {
        s.progress = on_progress;
        s.progress_opaque = &cli;
    }

    char err[512];
    if (gv_settings_validate(&s, err, sizeof(err)) < 0) {
        fprintf(stderr, "gridvid: %s\n", err);
        goto end;
    }
    if (!s.preview && s.preview_at != 0 && !cli.quiet)
        fprintf(stderr, "gridvid: warning: --at has no effect without --preview\n");

    status = run(&cli, &s);
end:
    if (cli.dotenv)
        for (int k = 0; k < cli.n_keys; k++)
            free(cli.dotenv[k]);
    free(cli.dotenv);
    free(cli.dotenv_line);
    free(cli.inputs);
    free(cli.flags);
    return status;
}
