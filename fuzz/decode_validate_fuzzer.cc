// libFuzzer target: any byte sequence through decode + validate; a valid module must also pass
// the full decoder (body scan included), and every function body and constant expression of it
// is re-read with the InstructionReader. Nothing may crash, leak, read out of bounds or trip
// UBSan.
#include <cstddef>
#include <cstdint>
#include <span>

#include "decoder/instruction_reader.h"
#include "decoder/module_decoder.h"
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
  const std::span<const uint8_t> bytes(data, size);
  auto loaded = warden::load_module(bytes);
  if (!loaded) return 0;
  // load_module leaves the body scan to the validator: what it accepts, the full decoder must too.
  if (!warden::decode_module(bytes)) __builtin_trap();
  const warden::Module& module = *loaded;
  for (const warden::FunctionBody& body : module.bodies) read_all(module, body.code);
  for (const warden::ConstExpr& init : module.global_inits) read_all(module, init.range);
  return 0;
}
