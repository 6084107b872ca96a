#include "vm/linker.h"

namespace warden {

void Linker::define_function(std::string module, std::string name, FuncType type,
                             HostCallback callback) {
  Definition d;
  d.external.kind = ExternKind::Func;
  d.host = std::make_shared<const HostFunction>(HostFunction{std::move(type), std::move(callback)});
  definitions_[{std::move(module), std::move(name)}] = std::move(d);
}

void Linker::define(std::string module, std::string name, Extern external) {
  definitions_[{std::move(module), std::move(name)}] = Definition{external, nullptr};
}

void Linker::define_instance(const std::string& module, const Instance& instance) {
  for (const auto& [name, external] : instance.exports) define(module, name, external);
}

const Linker::Definition* Linker::find(std::string_view module, std::string_view name) const {
  auto it = definitions_.find(std::make_pair(std::string(module), std::string(name)));
  return it == definitions_.end() ? nullptr : &it->second;
}

void Linker::define_fallback(std::string module, Fallback make) {
  fallbacks_[std::move(module)] = std::move(make);
}

std::shared_ptr<const HostFunction> Linker::fallback(std::string_view module, std::string_view name,
                                                     const FuncType& type) const {
  auto it = fallbacks_.find(module);
  if (it == fallbacks_.end()) return nullptr;
  auto key = std::make_pair(std::string(module), std::string(name));
  if (auto m = made_.find(key); m != made_.end() && m->second->type == type) return m->second;
  auto made = it->second(name, type);
  if (made) made_[key] = made;
  return made;
}

}  // namespace warden
