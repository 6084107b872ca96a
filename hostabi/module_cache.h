// An on-disk cache of validation results, so that a host restarting with the same plugins does
// not validate them again. An entry is keyed by the module's SHA-256 and holds what validation
// found (validator/load_module.h, ValidationFacts), bound to this build of warden (its version
// and the build id of the binary it is linked into) and authenticated with HMAC-SHA256 under a
// key of this cache directory. A corrupt, truncated, oversized or foreign entry (another
// directory's key, another build), or one that does not fit its module, is ignored: the module is
// validated again and the entry rewritten. Nothing is ever trusted that this cache did not write.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "decoder/result.h"
#include "validator/load_module.h"

namespace warden::extism {

struct ModuleCacheError {
  std::string message;  // "module cache /var/cache/w: cannot create: Permission denied"
};

class ModuleCache {
 public:
  struct Options {
    // What entries are bound to; default: warden's version and the running binary's build id.
    // Tests set it to make an entry of "another build".
    std::string build;
  };
  // Opens (creating it, mode 0700) the cache directory and its key (`key`, 32 random bytes,
  // mode 0600, made on first use).
  static Result<std::shared_ptr<ModuleCache>, ModuleCacheError> open(
      const std::filesystem::path& dir, Options options = {});

  // `bytes` as load_module would load them (`sha256` is their hex SHA-256), validated again
  // only when no valid entry is there; a module that validates is then stored. An entry that
  // cannot be written only costs the next start a validation (counted in stats).
  Result<Module, LoadError> load(std::span<const uint8_t> bytes, const std::string& sha256,
                                 const Features& features);

  struct Stats {
    uint64_t hits = 0, misses = 0, ignored = 0, write_failures = 0;
  };
  Stats stats() const;
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path entry_path(const std::string& sha256) const;

 private:
  ModuleCache() = default;
  std::filesystem::path dir_;
  std::string key_, build_;
  std::atomic<uint64_t> hits_{0}, misses_{0}, ignored_{0}, write_failures_{0};
};

}  // namespace warden::extism
