// Linker: names for imports. Host functions defined here belong to no Store (a Store makes its
// own Function for each on instantiation); memories, tables, globals and functions of a Store
// (e.g. another instance's exports) are defined by pointer.
#pragma once

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

  const Definition* find(std::string_view module, std::string_view name) const;

 private:
  std::map<std::pair<std::string, std::string>, Definition, std::less<>> definitions_;
};

}  // namespace warden
