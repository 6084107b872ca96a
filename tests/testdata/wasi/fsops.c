// A wasi-libc command for tests/wasi_test.cc: `fsops OP ARGS...` does one file-system operation
// through the C library (so the calls are exactly the ones wasi-libc makes) and prints "ok" and
// what it found, or "errno N" with the WASI errno (wasi-libc's errno values are WASI's).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int fail(void) {
  printf("errno %d\n", errno);
  return 0;
}

static int cmp(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

static int cat(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return fail();
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  printf("ok %.*s\n", (int)n, buf);
  return 0;
}

static int write_file(const char* path, const char* text, const char* mode) {
  FILE* f = fopen(path, mode);
  if (!f) return fail();
  if (fputs(text, f) < 0) return fail();
  if (fclose(f) != 0) return fail();
  printf("ok\n");
  return 0;
}

// Lists names (without "." and ".."), sorted, comma-separated, and how many there were.
static int list(const char* path) {
  DIR* d = opendir(path);
  if (!d) return fail();
  static char* names[4096];
  int n = 0;
  struct dirent* e;
  errno = 0;
  while ((e = readdir(d)) && n < 4096) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    names[n++] = strdup(e->d_name);
  }
  if (errno) return fail();
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], cmp);
  printf("ok %d", n);
  for (int i = 0; i < n && i < 20; ++i) printf("%c%s", i ? ',' : ' ', names[i]);
  printf("\n");
  return 0;
}

static const char* type_name(mode_t m) {
  return S_ISDIR(m) ? "dir" : S_ISREG(m) ? "file" : S_ISLNK(m) ? "symlink" : "other";
}

// Read, write, seek, truncate, pread and pwrite on one descriptor.
static int rw(const char* path) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return fail();
  char buf[32] = {0};
  if (write(fd, "hello world", 11) != 11) return fail();
  if (lseek(fd, 6, SEEK_SET) != 6) return fail();
  if (read(fd, buf, 5) != 5) return fail();
  if (pwrite(fd, "J", 1, 0) != 1) return fail();
  if (ftruncate(fd, 7) != 0) return fail();
  struct stat st;
  if (fstat(fd, &st) != 0) return fail();
  char head[8] = {0};
  if (pread(fd, head, 7, 0) != 7) return fail();
  off_t end = lseek(fd, 0, SEEK_END);
  close(fd);
  printf("ok %s %lld %s %lld\n", buf, (long long)st.st_size, head, (long long)end);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* op = argv[1];
  const char* a = argc > 2 ? argv[2] : "";
  const char* b = argc > 3 ? argv[3] : "";
  if (!strcmp(op, "cat")) return cat(a);
  if (!strcmp(op, "write")) return write_file(a, b, "w");
  if (!strcmp(op, "append")) return write_file(a, b, "a");
  if (!strcmp(op, "ls")) return list(a);
  if (!strcmp(op, "rw")) return rw(a);
  if (!strcmp(op, "mkdir")) return mkdir(a, 0755) ? fail() : (printf("ok\n"), 0);
  if (!strcmp(op, "rmdir")) return rmdir(a) ? fail() : (printf("ok\n"), 0);
  if (!strcmp(op, "unlink")) return unlink(a) ? fail() : (printf("ok\n"), 0);
  if (!strcmp(op, "rename")) return rename(a, b) ? fail() : (printf("ok\n"), 0);
  if (!strcmp(op, "symlink")) return symlink(a, b) ? fail() : (printf("ok\n"), 0);
  if (!strcmp(op, "link")) return link(a, b) ? fail() : (printf("ok\n"), 0);
  if (!strcmp(op, "readlink")) {
    char buf[256];
    ssize_t n = readlink(a, buf, sizeof buf);
    if (n < 0) return fail();
    printf("ok %.*s\n", (int)n, buf);
    return 0;
  }
  if (!strcmp(op, "stat") || !strcmp(op, "lstat")) {
    struct stat st;
    if ((op[0] == 'l' ? lstat(a, &st) : stat(a, &st)) != 0) return fail();
    printf("ok %s %lld\n", type_name(st.st_mode), (long long)st.st_size);
    return 0;
  }
  if (!strcmp(op, "truncate")) return truncate(a, atoi(b)) ? fail() : (printf("ok\n"), 0);
  if (!strcmp(op, "utime")) {
    struct timespec t[2] = {{1000000000, 0}, {1234567890, 0}};
    if (utimensat(AT_FDCWD, a, t, 0) != 0) return fail();
    struct stat st;
    if (stat(a, &st) != 0) return fail();
    printf("ok %lld\n", (long long)st.st_mtim.tv_sec);
    return 0;
  }
  if (!strcmp(op, "stdin")) {
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    printf("ok %zu %.*s\n", n, (int)n, buf);
    return 0;
  }
  if (!strcmp(op, "sleep")) {
    struct timespec t = {atoi(a) / 1000, (atoi(a) % 1000) * 1000000L};
    nanosleep(&t, NULL);
    printf("ok\n");
    return 0;
  }
  return 2;
}
