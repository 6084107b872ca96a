// Shared state for plugins: a key-value store of namespaces, behind one interface so that a host
// can keep it embedded (SQLite, the default) or on a server that several machines share.
// Namespaces are opaque byte strings the host builds (kv_functions.h: one per plugin and tenant,
// and one per plugin shared by its tenants). Every size is checked before anything is written.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "decoder/result.h"

namespace warden::host {

struct KvError {
  enum class Kind {
    TooLarge,  // a key or value over its limit
    Quota,     // the namespace would grow past max_namespace_bytes
    Backend,   // the store failed (I/O, a busy database, a lost connection)
  };
  Kind kind;
  std::string message;
};

struct KvLimits {
  size_t max_key_bytes = 1024;
  size_t max_value_bytes = 1 << 20;
  uint64_t max_namespace_bytes = uint64_t{16} << 20;  // keys and values together
};

class KvStore {
 public:
  virtual ~KvStore() = default;
  virtual Result<std::optional<std::string>, KvError> get(std::string_view ns,
                                                          std::string_view key) = 0;
  virtual Result<void, KvError> set(std::string_view ns, std::string_view key,
                                    std::string_view value) = 0;
  // True when the key existed.
  virtual Result<bool, KvError> erase(std::string_view ns, std::string_view key) = 0;
  // Bytes (keys and values) the namespace holds.
  virtual Result<uint64_t, KvError> namespace_bytes(std::string_view ns) = 0;
  const KvLimits& limits() const { return limits_; }

 protected:
  explicit KvStore(KvLimits limits) : limits_(limits) {}
  // The size checks every backend makes before a write.
  Result<void, KvError> check_sizes(std::string_view key, std::string_view value) const;

 private:
  KvLimits limits_;
};

// SQLite (Debian's libsqlite3-dev), one file, WAL journal; created if absent. Thread-safe.
Result<std::unique_ptr<KvStore>, KvError> open_sqlite_store(const std::string& path,
                                                            KvLimits limits = {});

// Redis (hiredis, Debian's libhiredis-dev) at HOST:PORT, for hosts on several machines; each
// write and its namespace's size change in one Lua script, so the quota holds across hosts.
// Thread-safe (one connection; a lost one is reopened once per command).
Result<std::unique_ptr<KvStore>, KvError> open_redis_store(const std::string& host, int port,
                                                           KvLimits limits = {});

}  // namespace warden::host
