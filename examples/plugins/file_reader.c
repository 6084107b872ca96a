// WASI: reads the file whose guest path is the input and outputs its contents; `write_file`
// writes config "content" to the path in the input. Built with wasi-libc as a reactor.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extism.h"

static char path[4096];
static char data[1 << 16];

static void read_path(void) {
  uint64_t n = extism_input_length();
  if (n >= sizeof path) n = sizeof path - 1;
  for (uint64_t i = 0; i < n; ++i) path[i] = (char)extism_input_load_u8(i);
  path[n] = 0;
}

static int32_t fail_errno(const char* what) {
  char message[512];
  snprintf(message, sizeof message, "%s %s: %s", what, path, strerror(errno));
  extism_error_set(to_kernel_str(message));
  return 1;
}

EXPORT(read_file) int32_t read_file(void) {
  read_path();
  FILE* f = fopen(path, "rb");
  if (!f) return fail_errno("cannot open");
  size_t n = fread(data, 1, sizeof data, f);
  fclose(f);
  extism_output_set(to_kernel(data, n), n);
  return 0;
}

EXPORT(write_file) int32_t write_file(void) {
  read_path();
  char content[1024] = "";
  Handle c = extism_config_get(to_kernel_str("content"));
  if (c) content[from_kernel(c, content, sizeof content - 1)] = 0;
  FILE* f = fopen(path, "wb");
  if (!f) return fail_errno("cannot create");
  fputs(content, f);
  if (fclose(f) != 0) return fail_errno("cannot write");
  output_str("written");
  return 0;
}

EXPORT(hello_stdout) int32_t hello_stdout(void) {
  printf("hello on stdout\n");
  fflush(stdout);
  output_str("printed");
  return 0;
}

// Lists the directory named by the input, one name per line, sorted by the host.
#include <dirent.h>
EXPORT(list_dir) int32_t list_dir(void) {
  read_path();
  DIR* d = opendir(path);
  if (!d) return fail_errno("cannot list");
  size_t n = 0;
  struct dirent* e;
  while ((e = readdir(d)) && n < sizeof data - 300) {
    if (e->d_name[0] == '.') continue;
    size_t len = strlen(e->d_name);
    memcpy(data + n, e->d_name, len);
    n += len;
    data[n++] = '\n';
  }
  closedir(d);
  extism_output_set(to_kernel(data, n), n);
  return 0;
}

// Sleeps for the number of milliseconds given as input (WASI poll_oneoff under the hood).
#include <time.h>
EXPORT(sleep_ms) int32_t sleep_ms(void) {
  read_path();
  long ms = atol(path);
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  output_str("slept");
  return 0;
}
