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
Result<Module, LoadError> load_module(std::span<const uint8_t> bytes, const Features& features,
                                      ValidationOptions options) {
  auto decoded = decode_module(bytes, features, {.scan_function_bodies = false});
  std::optional<ValidationError> invalid;
  if (decoded) {
    Module module = std::move(decoded).value();
    auto valid = validate_module(module, features, options);
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

std::vector<ValidationFacts> validation_facts(const Module& module) {
  std::vector<ValidationFacts> facts;
  facts.reserve(module.function_info.size());
  for (const FunctionInfo& info : module.function_info)
    facts.push_back({info.max_stack_height, info.max_control_depth, info.blocks});
  return facts;
}

Result<Module, LoadError> load_prevalidated_module(std::span<const uint8_t> bytes,
                                                   std::vector<ValidationFacts> facts,
                                                   const Features& features) {
  auto decoded = decode_module(bytes, features, {.scan_function_bodies = false});
  if (!decoded) return Failure{LoadError{decoded.take_error()}};
  Module module = std::move(decoded).value();
  auto unfit = [](std::string message) {
    return Failure{LoadError{
        ValidationError{ValidationErrorCode::TypeMismatch, 0, SectionId::Code, kNoIndex,
                        "validation facts do not fit the module: " + std::move(message)}}};
  };
  if (facts.size() != module.bodies.size()) return unfit("a different function count");
  module.function_info.resize(facts.size());
  for (size_t i = 0; i < facts.size(); ++i) {
    const FunctionBody& body = module.bodies[i];
    const uint64_t begin = body.code.offset, end = uint64_t{body.code.offset} + body.code.size;
    for (const BlockInfo& b : facts[i].blocks) {
      const auto inside = [&](uint32_t at) { return at >= begin && at < end; };
      if (!inside(b.offset) || !inside(b.end_offset) || b.end_offset <= b.offset ||
          (b.else_offset && (b.else_offset <= b.offset || b.else_offset >= b.end_offset)))
        return unfit("a block outside its function");
    }
    FunctionInfo& info = module.function_info[i];
    const FuncType& type = module.func_type(FuncIdx(module.functions_imported + uint32_t(i)));
    info.locals.assign(type.params.begin(), type.params.end());
    for (const LocalRun& run : body.locals)
      info.locals.insert(info.locals.end(), run.count, run.type);
    info.max_stack_height = facts[i].max_stack_height;
    info.max_control_depth = facts[i].max_control_depth;
    info.blocks = std::move(facts[i].blocks);
  }
  module.validated = true;
  return module;
}

}  // namespace warden
