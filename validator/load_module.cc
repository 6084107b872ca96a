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

Result<Module, LoadError> load_module(std::span<const uint8_t> bytes, const Features& features) {
  auto decoded = decode_module(bytes, features);
  if (!decoded) return Failure{LoadError{decoded.take_error()}};
  Module module = std::move(decoded).value();
  auto valid = validate_module(module, features);
  if (!valid) return Failure{LoadError{valid.take_error()}};
  return module;
}

}  // namespace warden
