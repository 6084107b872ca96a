#include "validator/load_module.h"

#include <optional>

namespace warden {

uint64_t LoadError::offset() const {
  return std::visit([](const auto& e) { return e.offset; }, error);
}

const std::string& LoadError::message() const {
  return std::visit([](const auto& e) -> const std::string& { return e.message; }, error);
}

std::string LoadError::to_string() const {
  return std::visit([](const auto& e) { return e.to_string(); }, error);
}

// One pass over the code when the module is good: the validator reads every function body, so
// the decoder leaves their encoding to it (the validator fails on whatever the body scan would
// have refused). When anything fails, the module is decoded again in full, so the error is the
// spec's first: the earliest decode error, else the validation error (which the first pass got
// right: with no decode error, every body it read was well-formed).
Result<Module, LoadError> load_module(std::span<const uint8_t> bytes, const Features& features) {
  auto decoded = decode_module(bytes, features, {.scan_function_bodies = false});
  std::optional<ValidationError> invalid;
  if (decoded) {
    Module module = std::move(decoded).value();
    auto valid = validate_module(module, features);
    if (valid) return module;
    invalid = valid.take_error();
  }
  auto full = decode_module(bytes, features);
  if (!full) return Failure{LoadError{full.take_error()}};
  // The full decoder refuses everything the first one does, so `invalid` is set here; the
  // fallback keeps a broken invariant from becoming a crash.
  if (!invalid) return Failure{LoadError{decoded.take_error()}};
  return Failure{LoadError{std::move(*invalid)}};
}

}  // namespace warden
