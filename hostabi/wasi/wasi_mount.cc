#include "hostabi/wasi/wasi_mount.h"

#include <fcntl.h>

#include <filesystem>

#include "decoder/untrusted_text.h"
#include "hostabi/wasi/wasi_path.h"

namespace warden::wasi {

std::optional<WasiConfig::Mount> parse_mount_spec(std::string_view spec) {
  WasiConfig::Mount mount;
  mount.read_only = spec.starts_with("ro:");
  if (mount.read_only) spec.remove_prefix(3);
  const size_t colon = spec.find(':');
  mount.host_path = std::string(spec.substr(0, colon));
  mount.guest_path =
      colon == std::string_view::npos ? mount.host_path : std::string(spec.substr(colon + 1));
  if (mount.host_path.empty() || mount.guest_path.empty()) return std::nullopt;
  return mount;
}

WasiConfig::Mount mount_from_manifest(std::string_view host, std::string_view guest) {
  WasiConfig::Mount mount;
  mount.read_only = host.starts_with("ro:");
  mount.host_path = std::string(mount.read_only ? host.substr(3) : host);
  mount.guest_path = std::string(guest);
  return mount;
}

std::optional<MountRefusal> check_mount(const WasiConfig::Mount& mount) {
  const std::string& dir = mount.host_path;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return MountRefusal{false, escape_untrusted(dir) + " is not a directory"};
  UniqueFd probe(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!probe || on_host_pseudo_fs(probe.get()))
    return MountRefusal{true, escape_untrusted(dir) +
                                  " is a host pseudo file system (procfs, sysfs, ...): refused"};
  return std::nullopt;
}

}  // namespace warden::wasi
