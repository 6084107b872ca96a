#include "hostabi/wasi/wasi_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <atomic>
#include <deque>
#include <optional>
#include <vector>

namespace warden::wasi {
namespace {

constexpr int kMaxSymlinks = 40;  // as Linux's MAXSYMLINKS

std::atomic<Resolver> auto_resolver{Resolver::kAuto};

// The components of a relative path, without "" and "." (so "a//./b/" is {"a", "b"}).
std::deque<std::string> components(std::string_view path) {
  std::deque<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") out.emplace_back(part);
    start = end + 1;
  }
  return out;
}

int kernel_open(int dir, const std::string& path, int flags, mode_t mode, bool follow) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: a concurrent rename meant the kernel could not prove a `..` stayed beneath.
  for (int attempt = 0; attempt < 16; ++attempt) {
    const long fd = ::syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != EAGAIN) return errno == EXDEV ? -EPERM : -errno;  // EXDEV: it tried to leave
  }
  return -EAGAIN;
}

int open_here(int dir, int flags, mode_t mode) {
  const int fd = ::openat(dir, ".", flags | O_CLOEXEC, mode);
  return fd < 0 ? -errno : fd;
}

// The user-space walk: every component is opened with O_NOFOLLOW relative to the previous one;
// symlinks are read and their targets spliced into the remaining components.
int walk_open(int dir, std::string_view path, int flags, mode_t mode, bool follow) {
  std::deque<std::string> todo = components(path);
  bool must_be_dir = path.back() == '/';
  const bool exclusive_create = (flags & O_CREAT) && (flags & O_EXCL);
  std::vector<UniqueFd> entered;  // the directories below `dir` on the way, innermost last
  auto current = [&] { return entered.empty() ? dir : entered.back().get(); };
  int links = 0;
  if (todo.empty()) return open_here(dir, flags, mode);  // ".", "./", ...
  while (!todo.empty()) {
    const std::string name = std::move(todo.front());
    todo.pop_front();
    const bool last = todo.empty();
    if (name == "..") {
      if (entered.empty()) return -EPERM;
      entered.pop_back();
      if (last) return open_here(current(), flags, mode);
      continue;
    }
    // A symlink in the middle is always followed; the last one as asked (never for O_EXCL).
    if (!last || must_be_dir || (follow && !exclusive_create)) {
      char target[PATH_MAX];
      const ssize_t n = ::readlinkat(current(), name.c_str(), target, sizeof target);
      if (n >= 0) {
        if (++links > kMaxSymlinks) return -ELOOP;
        if (n == static_cast<ssize_t>(sizeof target)) return -ENAMETOOLONG;
        const std::string_view t(target, static_cast<size_t>(n));
        if (t.empty()) return -ENOENT;
        if (t.front() == '/') return -EPERM;
        if (last && t.back() == '/') must_be_dir = true;
        std::deque<std::string> parts = components(t);
        todo.insert(todo.begin(), parts.begin(), parts.end());
        if (todo.empty()) return open_here(current(), flags, mode);  // a link to "."
        continue;
      }
      if (errno != EINVAL && errno != ENOENT) return -errno;  // EINVAL: not a symlink
    }
    if (!last) {
      const int fd =
          ::openat(current(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return -errno;
      entered.emplace_back(fd);
      continue;
    }
    if (must_be_dir && (flags & O_CREAT)) return -EISDIR;
    const int fd = ::openat(current(), name.c_str(),
                            flags | O_NOFOLLOW | O_CLOEXEC | (must_be_dir ? O_DIRECTORY : 0), mode);
    return fd < 0 ? -errno : fd;
  }
  return -ENOENT;  // not reached: the last component returns
}

}  // namespace

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd < 0 ? -1 : fd;
}

FileId file_id(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {};
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

bool kernel_resolver_available() {
  static const bool available = [] {
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return false;
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    UniqueFd probe(static_cast<int>(::syscall(SYS_openat2, root.get(), ".", &how, sizeof how)));
    return static_cast<bool>(probe);
  }();
  return available;
}

void set_auto_resolver(Resolver resolver) {
  auto_resolver.store(resolver, std::memory_order_relaxed);
}

int open_beneath(int dir, std::string_view path, int flags, mode_t mode, bool follow,
                 Resolver resolver) {
  if (path.empty()) return -ENOENT;
  if (path.find('\0') != std::string_view::npos) return -EINVAL;
  if (path.front() == '/') return -EPERM;
  if (resolver == Resolver::kAuto) resolver = auto_resolver.load(std::memory_order_relaxed);
  if (resolver == Resolver::kAuto)
    resolver = kernel_resolver_available() ? Resolver::kKernel : Resolver::kWalk;
  const int fd = resolver == Resolver::kKernel
                     ? kernel_open(dir, std::string(path), flags, mode, follow)
                     : walk_open(dir, path, flags, mode, follow);
  // procfs and friends beneath a mount (a mount of "/", or of a directory holding /proc): the
  // host's /proc/self/mem and environment are not files a plugin may see.
  if (fd >= 0 && on_host_pseudo_fs(fd)) {
    ::close(fd);
    return -EPERM;
  }
  return fd;
}

int open_parent(int dir, std::string_view path, ParentAndName& out, Resolver resolver) {
  if (path.empty()) return -ENOENT;
  if (path.find('\0') != std::string_view::npos) return -EINVAL;
  if (path.front() == '/') return -EPERM;
  std::string_view p = path;
  while (p.size() > 1 && p.back() == '/') {
    p.remove_suffix(1);
    out.trailing_slash = true;
  }
  const size_t slash = p.rfind('/');
  const std::string_view parent = slash == std::string_view::npos ? "." : p.substr(0, slash);
  out.name = std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
  if (out.name == "." || out.name == "..") {
    // Not a plain name. A `..` that climbs out of `dir` is still reported as an escape.
    const int probe = open_beneath(dir, path, O_PATH, 0, true, resolver);
    if (probe >= 0) ::close(probe);
    return probe == -EPERM ? -EPERM : -EINVAL;
  }
  const int fd = open_beneath(dir, parent, O_PATH | O_DIRECTORY, 0, true, resolver);
  if (fd < 0) return fd;
  out.parent.reset(fd);
  return 0;
}

int64_t depth_below(FileId root, int dir) {
  // Found by climbing `..` (for the count only: nothing is opened through these descriptors).
  UniqueFd at(::openat(dir, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  for (int64_t depth = 0;; ++depth) {
    if (!at || depth > 4096) return -1;
    const FileId here = file_id(at.get());
    if (here == root) return depth;
    UniqueFd up(::openat(at.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!up || file_id(up.get()) == here) return -1;  // reached "/" without meeting root
    at = std::move(up);
  }
}

bool target_stays_beneath(int64_t depth, std::string_view target) {
  if (depth < 0 || target.empty() || target.front() == '/') return false;
  for (const std::string& part : components(target)) {
    if (part != "..") {
      ++depth;
    } else if (--depth < 0) {
      return false;
    }
  }
  return true;
}

bool symlink_target_stays_beneath(FileId root, int link_dir, std::string_view target) {
  return target_stays_beneath(depth_below(root, link_dir), target);
}

namespace {

std::optional<std::string> read_link(int dir, const char* name) {
  char target[PATH_MAX];
  const ssize_t n = ::readlinkat(dir, name, target, sizeof target);
  if (n < 0 || n == static_cast<ssize_t>(sizeof target)) return std::nullopt;
  return std::string(target, static_cast<size_t>(n));
}

}  // namespace

bool links_stay_beneath_after_move(FileId root, int parent, const std::string& name, int new_parent,
                                   size_t max_entries) {
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return true;  // renameat reports it
  const int64_t base = depth_below(root, new_parent);
  if (base < 0) return false;
  if (S_ISLNK(st.st_mode)) {
    auto target = read_link(parent, name.c_str());
    return target && target_stays_beneath(base, *target);
  }
  if (!S_ISDIR(st.st_mode)) return true;
  // The directory's subtree, breadth first: every symlink in it, at its depth after the move.
  struct Pending {
    UniqueFd dir;
    int64_t depth;  // of this directory below the root, after the move
  };
  std::deque<Pending> todo;
  todo.push_back(
      {UniqueFd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)),
       base + 1});
  size_t seen = 0;
  while (!todo.empty()) {
    Pending here = std::move(todo.front());
    todo.pop_front();
    if (!here.dir) return false;
    DIR* d = ::fdopendir(::dup(here.dir.get()));
    if (!d) return false;
    bool ok = true;
    while (ok) {
      const dirent* e = ::readdir(d);
      if (!e) break;
      const std::string_view entry = e->d_name;
      if (entry == "." || entry == "..") continue;
      if (++seen > max_entries) {
        ok = false;
        break;
      }
      struct stat es {};
      if (::fstatat(here.dir.get(), e->d_name, &es, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISLNK(es.st_mode)) {
        auto target = read_link(here.dir.get(), e->d_name);
        ok = target && target_stays_beneath(here.depth, *target);
      } else if (S_ISDIR(es.st_mode)) {
        todo.push_back({UniqueFd(::openat(here.dir.get(), e->d_name,
                                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)),
                        here.depth + 1});
      }
    }
    ::closedir(d);
    if (!ok) return false;
  }
  return true;
}

bool on_host_pseudo_fs(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return true;  // cannot tell: refuse
  switch (static_cast<unsigned long>(fs.f_type)) {
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
    case DEBUGFS_MAGIC:
    case TRACEFS_MAGIC:
    case SECURITYFS_MAGIC:
    case BPF_FS_MAGIC:
    case 0x62656570:  // configfs
    case EFIVARFS_MAGIC:
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC: return true;
    default: return false;
  }
}

}  // namespace warden::wasi
