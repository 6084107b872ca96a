// count_vowels: counts the vowels of the input (config "vowels" overrides the set) and keeps a
// running total in the variable "total". Output: {"count":N,"total":T,"vowels":"..."}.
// Built with wasi-libc as a reactor: it uses libc for strings and has an _initialize export.
#include <stdlib.h>
#include <string.h>

#include "extism.h"

EXPORT(count_vowels) int32_t count_vowels(void) {
  char vowels[256] = "aeiouAEIOU";
  Handle v = extism_config_get(to_kernel_str("vowels"));
  if (v) {
    uint64_t n = from_kernel(v, vowels, sizeof vowels - 1);
    vowels[n < sizeof vowels - 1 ? n : sizeof vowels - 1] = 0;
  }
  uint64_t count = 0, n = extism_input_length();
  for (uint64_t i = 0; i < n; ++i) {
    uint8_t c = extism_input_load_u8(i);
    if (c && strchr(vowels, c)) ++count;
  }
  uint64_t total = 0;
  Handle t = extism_var_get(to_kernel_str("total"));
  if (t && extism_length(t) == 8) total = extism_load_u64(t);
  total += count;
  Handle tv = extism_alloc(8);
  extism_store_u64(tv, total);
  extism_var_set(to_kernel_str("total"), tv);

  char out[400] = "{\"count\":";
  append_u64(out, count);
  strcat(out, ",\"total\":");
  append_u64(out, total);
  strcat(out, ",\"vowels\":\"");
  strncat(out, vowels, 300);
  strcat(out, "\"}");
  output_str(out);
  return 0;
}
