// The entry point of bench/warden-core.wasm: warden's own decoder and validator compiled to
// wasm32-wasi, so the benchmarks have a large, real module produced by an ordinary toolchain.
#include <cstdio>
#include <vector>

#include "validator/load_module.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: warden-core FILE.wasm\n");
    return 2;
  }
  std::FILE* file = std::fopen(argv[1], "rb");
  if (!file) return 2;
  std::vector<uint8_t> bytes;
  for (int c; (c = std::fgetc(file)) != EOF;) bytes.push_back(static_cast<uint8_t>(c));
  std::fclose(file);
  auto loaded = warden::load_module(bytes);
  std::printf("%s\n", loaded ? "valid" : loaded.error().to_string().c_str());
  return loaded ? 0 : 1;
}
