// dump_code MODULE.wasm [FUNC_INDEX...]: compiles functions and prints their threaded code
// (vm/code_dump.h). A developer's tool for reading what the compiler emits.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "vm/code_dump.h"
#include "vm/compiled_module.h"
#include "vm/interpreter.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: dump_code MODULE.wasm [FUNC_INDEX...]\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  warden::Engine engine(warden::EngineConfig{.fuel = std::getenv("FUEL") != nullptr});
  auto compiled = warden::CompiledModule::compile(engine, std::move(bytes));
  if (!compiled) {
    std::fprintf(stderr, "%s\n", compiled.error().to_string().c_str());
    return 1;
  }
  const warden::Module& m = (*compiled)->module();
  for (int i = 2; i < argc || (argc == 2 && i == 2); ++i) {
    for (uint32_t f = m.functions_imported; f < m.functions.size(); ++f) {
      if (argc > 2 && f != static_cast<uint32_t>(std::atoi(argv[i]))) continue;
      auto it = m.names.function_names.find(f);
      std::printf("func[%u] %s\n", f, it == m.names.function_names.end() ? "" : it->second.c_str());
      std::fputs(warden::dump_code((*compiled)->code(f - m.functions_imported),
                                   warden::threaded_handlers())
                     .c_str(),
                 stdout);
    }
    if (argc == 2) break;
  }
  return 0;
}
