// load_module: decode, then validate. The one entry point the CLI, the spec runner, benchmarks
// and fuzzers use to turn bytes into a validated Module.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

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
                                                    const Features& features = {},
                                                    ValidationOptions options = {});

// What validation learned about each defined function, as load_module found it (the part of
// FunctionInfo that is not recomputed from the module: locals are).
struct ValidationFacts {
  uint32_t max_stack_height = 0;
  uint32_t max_control_depth = 0;
  std::vector<BlockInfo> blocks;
};
std::vector<ValidationFacts> validation_facts(const Module& module);

// For bytes validated before: decodes them and takes `facts` (validation_facts of load_module's
// result for the same bytes and features) instead of validating again. The caller vouches for
// where the facts came from (hostabi/module_cache.h authenticates them); here they are only
// checked to fit the module: one per defined function, every block inside its function's body.
[[nodiscard]] Result<Module, LoadError> load_prevalidated_module(std::span<const uint8_t> bytes,
                                                                 std::vector<ValidationFacts> facts,
                                                                 const Features& features = {});

}  // namespace warden
