#include "hostabi/wasi/wasi_fd_table.h"

#include <fcntl.h>
#include <sys/stat.h>

namespace warden::wasi {

Filetype filetype_of_mode(uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR: return kDirectory;
    case S_IFREG: return kRegularFile;
    case S_IFLNK: return kSymlink;
    case S_IFCHR: return kCharDevice;
    case S_IFBLK: return kBlockDevice;
    case S_IFSOCK: return kSocketStream;
    default: return kUnknownType;
  }
}

Filetype Fd::filetype() const {
  if (is_stdio()) return kCharDevice;
  if (is_dir()) return kDirectory;
  struct stat st {};
  return ::fstat(host.get(), &st) == 0 ? filetype_of_mode(st.st_mode) : kUnknownType;
}

uint64_t Fd::rights() const {
  constexpr uint64_t kWriteRights =
      kRightFdWrite | kRightFdDatasync | kRightFdAllocate | kRightFdFilestatSetSize;
  constexpr uint64_t kFileRights =
      kRightFdDatasync | kRightFdRead | kRightFdSeek | kRightFdFdstatSetFlags | kRightFdSync |
      kRightFdTell | kRightFdWrite | kRightFdAdvise | kRightFdAllocate | kRightFdFilestatGet |
      kRightFdFilestatSetSize | kRightFdFilestatSetTimes | kRightPollFdReadwrite;
  switch (kind) {
    case Kind::kStdin:
      return kRightFdRead | kRightFdFdstatSetFlags | kRightFdFilestatGet | kRightPollFdReadwrite;
    case Kind::kStdout:
    case Kind::kStderr:
      return kRightFdWrite | kRightFdFdstatSetFlags | kRightFdFilestatGet | kRightPollFdReadwrite;
    case Kind::kDirectory:
      return kAllRights & ~(kFileRights & ~(kRightFdFdstatSetFlags | kRightFdSync | kRightFdAdvise |
                                            kRightFdFilestatGet | kRightFdFilestatSetTimes));
    case Kind::kFile:
      return kFileRights & ~(readable ? 0 : kRightFdRead) & ~(writable ? 0 : kWriteRights);
  }
  return 0;
}

uint64_t Fd::inheriting_rights() const { return is_dir() ? kAllRights : 0; }

FdTable::FdTable(std::shared_ptr<const WasiConfig> config) : config_(std::move(config)) {
  fds_[0].kind = Fd::Kind::kStdin;
  fds_[0].readable = true;
  fds_[1].kind = Fd::Kind::kStdout;
  fds_[1].writable = true;
  fds_[2].kind = Fd::Kind::kStderr;
  fds_[2].writable = true;
  uint32_t next = 3;
  for (const WasiConfig::Mount& m : config_->mounts) {
    UniqueFd dir(::open(m.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    // A mount that cannot be opened is left out (Plugin::create refuses those beforehand), and
    // the next mount takes its number.
    if (!dir || on_host_pseudo_fs(dir.get())) continue;
    Fd fd;
    fd.kind = Fd::Kind::kDirectory;
    fd.readable = true;
    fd.read_only_mount = m.read_only;
    fd.preopen = m.guest_path;
    fd.root = file_id(dir.get());
    fd.host = std::move(dir);
    fds_[next++] = std::move(fd);
  }
}

Fd* FdTable::get(uint32_t n) {
  auto it = fds_.find(n);
  return it == fds_.end() ? nullptr : &it->second;
}

uint32_t FdTable::add(Fd fd) {
  uint32_t n = 3;
  for (auto it = fds_.lower_bound(3); it != fds_.end() && it->first == n; ++it) ++n;
  fds_[n] = std::move(fd);
  ++opened_;
  return n;
}

void FdTable::close(uint32_t n) {
  auto it = fds_.find(n);
  if (it == fds_.end()) return;
  if (!it->second.is_stdio() && it->second.preopen.empty()) --opened_;
  fds_.erase(it);
}

void FdTable::renumber(uint32_t from, uint32_t to) {
  if (from == to) return;
  auto f = fds_.find(from), t = fds_.find(to);
  if (f == fds_.end() || t == fds_.end()) return;
  if (!t->second.is_stdio() && t->second.preopen.empty()) --opened_;
  t->second = std::move(f->second);
  fds_.erase(f);
}

}  // namespace warden::wasi
