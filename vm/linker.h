// Linker: names for imports. Host functions defined here belong to no Store (a Store makes its
// own Function for each on instantiation); memories, tables, globals and functions of a Store
// (e.g. another instance's exports) are defined by pointer.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "vm/runtime.h"

namespace warden {

class Linker {
 public:
  struct Definition {
    Extern external;                           // store objects
    std::shared_ptr<const HostFunction> host;  // or a host function
  };

  void define_function(std::string module, std::string name, FuncType type, HostCallback callback);
  void define(std::string module, std::string name, Extern external);
  // Every export of `instance` under `module` (the spec tests' `register`).
  void define_instance(const std::string& module, const Instance& instance);

  // For imports of `module` that have no definition: `make` may supply a host function for the
  // import's name and type (e.g. WASI functions that answer ENOSYS), or return nullptr.
  using Fallback = std::function<std::shared_ptr<const HostFunction>(std::string_view name,
                                                                     const FuncType& type)>;
  void define_fallback(std::string module, Fallback make);

  const Definition* find(std::string_view module, std::string_view name) const;
  std::shared_ptr<const HostFunction> fallback(std::string_view module, std::string_view name,
                                               const FuncType& type) const;

 private:
  std::map<std::pair<std::string, std::string>, Definition, std::less<>> definitions_;
  std::map<std::string, Fallback, std::less<>> fallbacks_;
  // Fallback-made functions, cached so an import gets the same function every time.
  mutable std::map<std::pair<std::string, std::string>, std::shared_ptr<const HostFunction>> made_;
};

}  // namespace warden
