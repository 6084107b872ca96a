// Preopened directories as users name them, checked by one set of rules wherever they come from:
// a manifest's allowed_paths, `warden call --allow-path`, `warden run --dir`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "hostabi/wasi/wasi.h"

namespace warden::wasi {

// "[ro:]HOST[:GUEST]" (GUEST defaults to HOST); nullopt when HOST or GUEST is empty.
std::optional<WasiConfig::Mount> parse_mount_spec(std::string_view spec);

// A manifest's allowed_paths entry: "[ro:]HOST" -> GUEST.
WasiConfig::Mount mount_from_manifest(std::string_view host, std::string_view guest);

// Why `mount` may not be preopened, or nullopt: its host path is not a directory, or it is a
// host pseudo file system (procfs, sysfs, ...; `denied` is then set).
struct MountRefusal {
  bool denied = false;
  std::string message;  // "/proc is a host pseudo file system (procfs, sysfs, ...): refused"
};
std::optional<MountRefusal> check_mount(const WasiConfig::Mount& mount);

}  // namespace warden::wasi
