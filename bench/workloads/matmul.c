// Dense 256x256 double matrix multiply, a few times: nested loops, f64 loads, strides.
#include <stdio.h>

#define N 256
static double a[N][N], b[N][N], c[N][N];

int main(void) {
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < N; ++j) {
      a[i][j] = (double)((i * 31 + j * 17) % 97) / 97.0;
      b[i][j] = (double)((i * 13 + j * 7) % 89) / 89.0;
    }
  }
  double trace = 0;
  for (int rep = 0; rep < 8; ++rep) {
    for (int i = 0; i < N; ++i) {
      for (int j = 0; j < N; ++j) c[i][j] = 0;
      for (int k = 0; k < N; ++k) {
        const double aik = a[i][k];
        for (int j = 0; j < N; ++j) c[i][j] += aik * b[k][j];
      }
    }
    for (int i = 0; i < N; ++i) trace += c[i][i];
    a[rep][rep] += 1.0;
  }
  printf("checksum: %.6f\n", trace);
  return 0;
}
