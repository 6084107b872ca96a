// Recursive Fibonacci: call overhead (two calls per level, no tail calls).
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static unsigned fib(unsigned n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(int argc, char** argv) {
  const unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 38;
  printf("checksum: %u\n", fib(n));
  return 0;
}
