#include "validator/load_module.h"

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
// have refused). When anything fails, the module is decoded again in full and validated again,
// so the error is the spec's first one: the earliest decode error, else the validation error.
Result<Module, LoadError> load_module(std::span<const uint8_t> bytes, const Features& features) {
  if (auto decoded = decode_module(bytes, features, {.scan_function_bodies = false})) {
    Module module = std::move(decoded).value();
    if (validate_module(module, features)) return module;
  }
  auto decoded = decode_module(bytes, features);
  if (!decoded) return Failure{LoadError{decoded.take_error()}};
  Module module = std::move(decoded).value();
  auto valid = validate_module(module, features);
  if (!valid) return Failure{LoadError{valid.take_error()}};
  return module;  // not reached: the first attempt accepts every module this one does
}

}  // namespace warden
