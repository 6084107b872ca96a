// load_module: decode, then validate. The one entry point the CLI, the spec runner, benchmarks
// and fuzzers use to turn bytes into a validated Module.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "decoder/module_decoder.h"
#include "validator/validator.h"

namespace warden {

// Either layer's error; each keeps its own type and code.
struct LoadError {
  std::variant<DecodeError, ValidationError> error;

  bool malformed() const { return error.index() == 0; }  // decode error (vs. invalid)
  uint64_t offset() const;
  const std::string& message() const;
  std::string to_string() const;  // the layer's own to_string()
};

[[nodiscard]] Result<Module, LoadError> load_module(std::span<const uint8_t> bytes,
                                                    const Features& features = {});

}  // namespace warden
