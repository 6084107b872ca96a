// Resolving guest paths beneath a directory descriptor, so that no path leaves its mount.
//
// Paths are never joined as strings with a host path. The kernel resolves them beneath the
// directory fd with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS); where openat2 is missing
// (Linux before 5.6, or a seccomp filter that hides it) a user-space walk does the same one
// component at a time, with O_NOFOLLOW on every open, symlinks expanded by hand and `..` popping
// a stack of the directories it entered (never opening `..` on the file system). Either way an
// absolute path, a `..` above the directory, or a symlink (any component) whose target is
// absolute or climbs out fails with EPERM, as wasmtime (cap-std) reports escapes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace warden::wasi {

// An owned host file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd < 0 ? -1 : fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A file's identity on the host (device and inode).
struct FileId {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const FileId&) const = default;
};
// The identity of an open fd, or {} when fstat fails.
FileId file_id(int fd);

// Whether `fd` lies on a pseudo file system that exposes the host itself rather than files:
// procfs (/proc/self/mem, environ, ...), sysfs, debugfs, tracefs, securityfs, bpf, configfs,
// efivarfs, cgroup. Nothing beneath a mount may be opened there (EPERM), and no mount may be one.
bool on_host_pseudo_fs(int fd);

// Who resolves paths: the kernel (openat2), or the user-space walk. kAuto uses the kernel when
// kernel_resolver_available().
enum class Resolver { kAuto, kKernel, kWalk };
bool kernel_resolver_available();
// What kAuto means from now on, process-wide (kAuto restores the probe). For tests, and for hosts
// that want the walk regardless.
void set_auto_resolver(Resolver resolver);

// Opens `path` beneath directory `dir` with open(2) `flags` (O_CLOEXEC is added) and `mode`.
// `follow`: whether a symlink as the last component is followed (symlinks in the middle always
// are, while they stay beneath). Returns the new fd, or -errno: -EPERM for a way out of `dir`
// or onto a host pseudo file system (on_host_pseudo_fs), -ENOENT for an empty path, -EINVAL for
// a path with a NUL byte.
int open_beneath(int dir, std::string_view path, int flags, mode_t mode, bool follow,
                 Resolver resolver = Resolver::kAuto);

// A path split for operations on a name (mkdir, unlink, rename, symlink, readlink, link): the
// parent directory opened beneath `dir` (O_PATH) and the last component, a plain name.
struct ParentAndName {
  UniqueFd parent;
  std::string name;
  bool trailing_slash = false;  // the path ended in '/' (it must name a directory)
};
// Returns 0 or -errno: -ENOENT for "", -EPERM for an escape (including a last component `..`
// that leaves `dir`), -EINVAL for a last component "." or "..".
int open_parent(int dir, std::string_view path, ParentAndName& out,
                Resolver resolver = Resolver::kAuto);

// Whether a symlink with `target`, created in directory `link_dir` (which lies beneath the
// directory `root`), names something beneath `root` when read component by component: absolute
// targets and `..` climbing above `root` are refused. Names inside the target are taken as plain
// directories, even when they are symlinks: this check keeps guest-made links from pointing out
// (for host programs that read the mount later); resolution still refuses every way out.
bool symlink_target_stays_beneath(FileId root, int link_dir, std::string_view target);

// How many directories `dir` lies below `root` (0: it is root), or -1 when it is not beneath.
int64_t depth_below(FileId root, int dir);
// Whether a symlink with `target` in a directory `depth` levels below the mount root stays
// beneath it (no absolute target, no `..` above the root).
bool target_stays_beneath(int64_t depth, std::string_view target);

// Renames and hard links move names, and a relative symlink that climbs with `..` points
// elsewhere when it moves: a plugin could make "a/b/l -> ../../x" (inside), then move it, or its
// directory, to a shallower place. True when every symlink that the name `name` in `parent`
// is, or holds (a directory's whole subtree, up to `max_entries` entries), still stays beneath
// `root` once it lies in `new_parent`. False also when the subtree is too large to check.
bool links_stay_beneath_after_move(FileId root, int parent, const std::string& name, int new_parent,
                                   size_t max_entries = 100'000);

}  // namespace warden::wasi
