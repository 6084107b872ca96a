// libFuzzer target: any byte sequence through decode + validate, then every function body and
// constant expression of a valid module re-read with the InstructionReader. Nothing may crash,
// leak, read out of bounds or trip UBSan.
#include <cstddef>
#include <cstdint>
#include <span>

#include "decoder/instruction_reader.h"
#include "validator/load_module.h"

namespace {

void read_all(const warden::Module& module, warden::ByteRange range) {
  warden::InstructionReader reader({module.bytes.data() + range.offset, range.size}, range.offset,
                                   warden::Features{});
  warden::Instruction ins;
  while (!reader.at_end() && reader.read(ins)) {
  }
  if (reader.failed()) __builtin_trap();  // the decoder accepted what the reader rejects
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto loaded = warden::load_module(std::span<const uint8_t>(data, size));
  if (!loaded) return 0;
  const warden::Module& module = *loaded;
  for (const warden::FunctionBody& body : module.bodies) read_all(module, body.code);
  for (const warden::ConstExpr& init : module.global_inits) read_all(module, init.range);
  return 0;
}
