// cat for `warden run`: copies each FILE (standard input when none is given, or for "-") to
// standard output, or to OUT with -o OUT. Files are reachable only beneath `--dir` mounts.
// Errors name the file and the reason, and the exit status is 1.
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int copy(FILE* in, const char* name, FILE* out) {
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) {
    if (fwrite(buffer, 1, n, out) != n) {
      fprintf(stderr, "cat: write: %s\n", strerror(errno));
      return 1;
    }
  }
  if (ferror(in)) {
    fprintf(stderr, "cat: %s: %s\n", name, strerror(errno));
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  FILE* out = stdout;
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "-o") == 0) {
    out = fopen(argv[2], "w");
    if (!out) {
      fprintf(stderr, "cat: %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    first = 3;
  }
  int status = 0;
  if (first == argc) return copy(stdin, "<stdin>", out);
  for (int i = first; i < argc; ++i) {
    if (strcmp(argv[i], "-") == 0) {
      status |= copy(stdin, "<stdin>", out);
      continue;
    }
    FILE* in = fopen(argv[i], "r");
    if (!in) {
      fprintf(stderr, "cat: %s: %s\n", argv[i], strerror(errno));
      status = 1;
      continue;
    }
    status |= copy(in, argv[i], out);
    fclose(in);
  }
  if (fclose(out) != 0) {
    fprintf(stderr, "cat: close: %s\n", strerror(errno));
    status = 1;
  }
  return status;
}
