// memcpy, strlen, memcmp and a hand-written byte loop over many small strings.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define COUNT 4096
static char pool[COUNT][64];
static char scratch[1 << 16];

int main(void) {
  uint32_t x = 7, hash = 2166136261u;
  for (int i = 0; i < COUNT; ++i) {
    const int len = 8 + (int)((x = x * 1664525u + 1013904223u) >> 27);  // 8..39
    for (int k = 0; k < len; ++k) pool[i][k] = (char)('a' + ((x >> (k % 24)) + k) % 26);
    pool[i][len] = 0;
  }
  for (int rep = 0; rep < 1200; ++rep) {
    size_t at = 0;
    for (int i = 0; i < COUNT; ++i) {
      const size_t len = strlen(pool[i]);
      if (at + len >= sizeof scratch) at = 0;
      memcpy(scratch + at, pool[i], len);
      at += len;
      if (memcmp(pool[i], pool[(i + rep) % COUNT], 8) < 0) ++hash;
    }
    for (size_t k = 0; k < at; ++k) hash = (hash ^ (uint8_t)scratch[k]) * 16777619u;
    memmove(scratch + 1, scratch, at / 2);
  }
  printf("checksum: %u\n", hash);
  return 0;
}
