// Sieve of Eratosthenes over 8 MiB of flags, repeated: byte loads and stores in tight loops.
#include <stdio.h>
#include <string.h>

#define N (1u << 23)
static unsigned char composite[N];

int main(void) {
  unsigned count = 0;
  for (int rep = 0; rep < 6; ++rep) {
    memset(composite, 0, sizeof composite);
    count = 0;
    for (unsigned i = 2; i < N; ++i) {
      if (composite[i]) continue;
      ++count;
      for (unsigned j = i + i; j < N; j += i) composite[j] = 1;
    }
  }
  printf("checksum: %u\n", count);
  return 0;
}
