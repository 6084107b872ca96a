#include "hostabi/wasi/wasi_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <functional>

#include "hostabi/wasi/wasi_memory.h"
#include "vm/store.h"

namespace warden::wasi {
namespace {

using enum ValType;

// Host errno -> WASI errno.
uint32_t from_errno(int e) {
  switch (e) {
    case EACCES: return kAcces;
    case EAGAIN: return kAgain;
    case EBADF: return kBadf;
    case EEXIST: return kExist;
    case EFBIG: return kFbig;
    case EINTR: return kIntr;
    case EINVAL: return kInval;
    case EISDIR: return kIsdir;
    case ELOOP: return kLoop;  // a symlink where none may be followed, or too many
    case EMFILE:
    case ENFILE: return kMfile;
    case EMLINK: return kMlink;
    case ENAMETOOLONG: return kNametoolong;
    case ENOENT: return kNoent;
    case ENOMEM: return kNomem;
    case ENOSPC:
    case EDQUOT: return kNospc;
    case ENOTDIR: return kNotdir;
    case ENOTEMPTY: return kNotempty;
    case EOPNOTSUPP: return kNotsup;
    case EPERM: return kPerm;  // also every way out of a mount (hostabi/wasi/wasi_path.h)
    case EROFS: return kRofs;
    case ESPIPE: return kSpipe;
    case EXDEV: return kXdev;  // rename or link across host file systems
    default: return kIo;
  }
}
uint32_t from_result(int negative_errno) { return from_errno(-negative_errno); }

constexpr uint32_t kLookupFollow = 1;
constexpr uint16_t kOCreat = 1, kODirectory = 2, kOExcl = 4, kOTrunc = 8;
// witx `filestat`: dev u64 @0, ino u64 @8, filetype u8 @16, nlink u64 @24, size u64 @32,
// atim u64 @40, mtim u64 @48, ctim u64 @56; 64 bytes.
constexpr uint32_t kFilestatSize = 64;
void encode_filestat(uint8_t* p, const struct stat& st, Filetype type) {
  auto put = [p](size_t at, uint64_t v) { std::memcpy(p + at, &v, 8); };
  auto ns = [](const timespec& t) {
    return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
  };
  std::memset(p, 0, kFilestatSize);
  put(0, st.st_dev);
  put(8, st.st_ino);
  p[16] = type;
  put(24, st.st_nlink);
  put(32, static_cast<uint64_t>(st.st_size));
  put(40, ns(st.st_atim));
  put(48, ns(st.st_mtim));
  put(56, ns(st.st_ctim));
}

// witx `dirent`: d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20; 24 bytes, then
// the name (not NUL-terminated).
constexpr uint32_t kDirentSize = 24;

// Everything a function needs: the table (locked), the guest memory, the arguments.
struct Call {
  FdTable& table;
  CallContext& ctx;
  GuestMemory mem;
  std::span<const Value> a;
  uint32_t arg(size_t i) const { return u32(a[i]); }
  uint64_t arg64(size_t i) const { return a[i].bits; }
  // A guest path, copied out of memory; at most kMaxPathBytes (a guest must not make the host
  // copy 4 GiB for a name): longer ones fail the call with ENAMETOOLONG.
  bool path(size_t ptr, size_t len, std::string& out) {
    if (arg(len) > kMaxPathBytes) {
      path_too_long = true;
      return false;
    }
    return mem.string(arg(ptr), arg(len), out);
  }
  static constexpr uint32_t kMaxPathBytes = 4096;  // PATH_MAX
  bool path_too_long = false;
};
using Impl = std::function<uint32_t(Call&)>;

void def(HostImpls& impls, const std::shared_ptr<FdTable>& table, const char* name, Impl impl) {
  impls.add(kModule, name,
            HostImpl{nullptr, nullptr,
                     [table, impl = std::move(impl)](CallContext& ctx, std::span<const Value> a,
                                                     std::span<Value> r) -> HostResult {
                       std::lock_guard lock(table->mutex());
                       Call call{*table, ctx, GuestMemory(ctx), a};
                       uint32_t e = impl(call);
                       if (call.path_too_long) e = kNametoolong;
                       r[0] = Value::i32(static_cast<int32_t>(e));
                       return {};
                     }});
}

// Calls `io(host pointer, length)` for each iovec (ciovec: buf u32 @0, len u32 @4; 8 bytes) and
// adds up what moved; stops early on a short transfer. The total never passes UINT32_MAX.
template <typename Io>
uint32_t each_iovec(GuestMemory& mem, uint32_t iovs, uint32_t count, uint32_t& total, Io io) {
  total = 0;
  if (!mem.ok(iovs, 8ull * count)) return kFault;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t ptr = 0, len = 0;
    mem.get(iovs + 8ull * i, ptr);
    mem.get(iovs + 8ull * i + 4, len);
    if (!mem.ok(ptr, len)) return kFault;
    len = std::min(len, UINT32_MAX - total);
    if (len == 0) continue;
    const ssize_t n = io(mem.at(ptr), len);
    if (n < 0) return total > 0 ? kSuccess : from_errno(errno);
    total += static_cast<uint32_t>(n);
    if (static_cast<uint32_t>(n) < len) break;
  }
  return kSuccess;
}

// read(2) on a host descriptor that may block (a terminal, a pipe), waiting in short steps so that
// a cancel or the call's deadline still ends the wait (EINTR).
ssize_t read_interruptibly(int fd, uint8_t* p, uint32_t len, CallContext& ctx) {
  while (true) {
    pollfd waiting{fd, POLLIN, 0};
    const int ready = ::poll(&waiting, 1, 50);
    if (ready > 0) return ::read(fd, p, len);
    if (ready < 0 && errno != EINTR) return -1;
    if (ctx.store.interrupt_pending()) {
      errno = EINTR;
      return -1;
    }
  }
}

// The directory fd a path_* function starts from, or an errno.
uint32_t dir_fd(Call& c, size_t index, Fd*& out) {
  out = c.table.get(c.arg(index));
  if (!out) return kBadf;
  return out->is_dir() ? kSuccess : kNotdir;
}

// ---- fd_*: descriptors -------------------------------------------------------------------

void define_prestat(HostImpls& impls, const std::shared_ptr<FdTable>& t) {
  // prestat: tag u8 @0 (0 = dir), pr_name_len u32 @4; 8 bytes.
  def(impls, t, "fd_prestat_get", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd || fd->preopen.empty()) return kBadf;
    return c.mem.put<uint32_t>(c.arg(1), 0) &&
                   c.mem.put<uint32_t>(c.arg(1) + 4ull, static_cast<uint32_t>(fd->preopen.size()))
               ? kSuccess
               : kFault;
  });
  def(impls, t, "fd_prestat_dir_name", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd || fd->preopen.empty()) return kBadf;
    if (c.arg(2) < fd->preopen.size()) return kNametoolong;
    return c.mem.write(c.arg(1), fd->preopen.data(), fd->preopen.size()) ? kSuccess : kFault;
  });
}

void define_read_write(HostImpls& impls, const std::shared_ptr<FdTable>& t) {
  def(impls, t, "fd_write", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd || !fd->writable) return kBadf;
    uint32_t total = 0, e;
    if (fd->is_stdio()) {
      std::string out;
      e = each_iovec(c.mem, c.arg(1), c.arg(2), total, [&](uint8_t* p, uint32_t len) -> ssize_t {
        out.append(reinterpret_cast<const char*>(p), len);
        return len;
      });
      if (e) return e;
      const bool is_stdout = fd->kind == Fd::Kind::kStdout;
      const auto& sink = is_stdout ? c.table.config().write_stdout : c.table.config().write_stderr;
      if (sink) {
        sink(out);
      } else {
        std::fwrite(out.data(), 1, out.size(), is_stdout ? stdout : stderr);
      }
    } else {
      e = each_iovec(c.mem, c.arg(1), c.arg(2), total,
                     [&](uint8_t* p, uint32_t len) { return ::write(fd->host.get(), p, len); });
      if (e) return e;
    }
    return c.mem.put<uint32_t>(c.arg(3), total) ? kSuccess : kFault;
  });
  def(impls, t, "fd_pwrite", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd || !fd->writable) return kBadf;
    if (!fd->is_file()) return kSpipe;
    if (c.arg64(3) > static_cast<uint64_t>(INT64_MAX)) return kInval;
    uint32_t total = 0;
    off_t at = static_cast<off_t>(c.arg64(3));
    if (uint32_t e = each_iovec(c.mem, c.arg(1), c.arg(2), total, [&](uint8_t* p, uint32_t len) {
          const ssize_t n = ::pwrite(fd->host.get(), p, len, at);
          if (n > 0) at += n;
          return n;
        }))
      return e;
    return c.mem.put<uint32_t>(c.arg(4), total) ? kSuccess : kFault;
  });
  def(impls, t, "fd_read", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    if (fd->is_dir()) return kIsdir;
    if (!fd->readable) return kBadf;
    uint32_t total = 0;
    uint32_t e;
    if (fd->kind == Fd::Kind::kStdin && c.table.config().stdin_fd >= 0) {
      const int in = c.table.config().stdin_fd;
      e = each_iovec(c.mem, c.arg(1), c.arg(2), total, [&](uint8_t* p, uint32_t len) {
        return read_interruptibly(in, p, len, c.ctx);
      });
    } else if (fd->kind == Fd::Kind::kStdin) {
      const std::string& data = c.table.config().stdin_data;
      e = each_iovec(c.mem, c.arg(1), c.arg(2), total, [&](uint8_t* p, uint32_t len) -> ssize_t {
        const size_t n = std::min<size_t>(len, data.size() - c.table.stdin_offset);
        std::memcpy(p, data.data() + c.table.stdin_offset, n);
        c.table.stdin_offset += n;
        return static_cast<ssize_t>(n);
      });
    } else {
      e = each_iovec(c.mem, c.arg(1), c.arg(2), total,
                     [&](uint8_t* p, uint32_t len) { return ::read(fd->host.get(), p, len); });
    }
    if (e) return e;
    return c.mem.put<uint32_t>(c.arg(3), total) ? kSuccess : kFault;
  });
  def(impls, t, "fd_pread", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    if (fd->is_dir()) return kIsdir;
    if (!fd->readable) return kBadf;
    if (!fd->is_file()) return kSpipe;
    if (c.arg64(3) > static_cast<uint64_t>(INT64_MAX)) return kInval;
    uint32_t total = 0;
    off_t at = static_cast<off_t>(c.arg64(3));
    if (uint32_t e = each_iovec(c.mem, c.arg(1), c.arg(2), total, [&](uint8_t* p, uint32_t len) {
          const ssize_t n = ::pread(fd->host.get(), p, len, at);
          if (n > 0) at += n;
          return n;
        }))
      return e;
    return c.mem.put<uint32_t>(c.arg(4), total) ? kSuccess : kFault;
  });
}

void define_position(HostImpls& impls, const std::shared_ptr<FdTable>& t) {
  def(impls, t, "fd_seek", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    if (fd->is_stdio()) return kSpipe;
    if (!fd->is_file()) return kBadf;
    static constexpr int kWhence[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    if (c.arg(2) > 2) return kInval;
    if (!c.mem.ok(c.arg(3), 8)) return kFault;
    const off_t pos = ::lseek(fd->host.get(), static_cast<off_t>(c.arg64(1)), kWhence[c.arg(2)]);
    if (pos < 0) return from_errno(errno);
    return c.mem.put<uint64_t>(c.arg(3), static_cast<uint64_t>(pos)) ? kSuccess : kFault;
  });
  def(impls, t, "fd_tell", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    if (fd->is_stdio()) return kSpipe;
    if (!fd->is_file()) return kBadf;
    const off_t pos = ::lseek(fd->host.get(), 0, SEEK_CUR);
    if (pos < 0) return from_errno(errno);
    return c.mem.put<uint64_t>(c.arg(1), static_cast<uint64_t>(pos)) ? kSuccess : kFault;
  });
}

void define_lifetime(HostImpls& impls, const std::shared_ptr<FdTable>& t) {
  // Preopens cannot be closed or renumbered (ENOTSUP), as in wasmtime and the WASI test suite.
  def(impls, t, "fd_close", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    if (!fd->preopen.empty()) return kNotsup;
    c.table.close(c.arg(0));
    return kSuccess;
  });
  def(impls, t, "fd_renumber", [](Call& c) -> uint32_t {
    Fd* from = c.table.get(c.arg(0));
    Fd* to = c.table.get(c.arg(1));
    if (!from || !to) return kBadf;
    if (!from->preopen.empty() || !to->preopen.empty()) return kNotsup;
    c.table.renumber(c.arg(0), c.arg(1));
    return kSuccess;
  });
  for (const char* name : {"fd_sync", "fd_datasync"}) {
    const bool data_only = name[3] == 'd';
    def(impls, t, name, [data_only](Call& c) -> uint32_t {
      Fd* fd = c.table.get(c.arg(0));
      if (!fd) return kBadf;
      if (fd->is_stdio()) return kSuccess;  // nothing is buffered on our side
      const int rc = data_only ? ::fdatasync(fd->host.get()) : ::fsync(fd->host.get());
      return rc == 0 ? kSuccess : from_errno(errno);
    });
  }
  def(impls, t, "fd_advise", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    if (!fd->is_file()) return kBadf;
    return c.arg(3) <= 5 ? kSuccess : kInval;  // advice only: nothing to do
  });
  def(impls, t, "fd_allocate", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd || !fd->writable) return kBadf;
    if (!fd->is_file()) return kBadf;
    const uint64_t offset = c.arg64(1), len = c.arg64(2);
    if (offset > INT64_MAX || len > INT64_MAX - offset) return kInval;
    const int rc =
        ::posix_fallocate(fd->host.get(), static_cast<off_t>(offset), static_cast<off_t>(len));
    return rc == 0 ? kSuccess : from_errno(rc);
  });
}

void define_fdstat(HostImpls& impls, const std::shared_ptr<FdTable>& t) {
  // fdstat: fs_filetype u8 @0, fs_flags u16 @2, fs_rights_base u64 @8, fs_rights_inheriting
  // u64 @16; 24 bytes.
  def(impls, t, "fd_fdstat_get", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    uint8_t stat[24] = {};
    stat[0] = fd->filetype();
    std::memcpy(stat + 2, &fd->flags, 2);
    const uint64_t base = fd->rights(), inheriting = fd->inheriting_rights();
    std::memcpy(stat + 8, &base, 8);
    std::memcpy(stat + 16, &inheriting, 8);
    return c.mem.write(c.arg(1), stat, sizeof stat) ? kSuccess : kFault;
  });
  // Append and non-blocking can be switched; the sync flags only at path_open.
  def(impls, t, "fd_fdstat_set_flags", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    const uint32_t flags = c.arg(1);
    if (flags & ~uint32_t{kFdAppend | kFdNonblock}) return kNotsup;
    if (fd->is_file() || fd->is_dir()) {
      if ((flags & kFdAppend) && fd->is_dir()) return kIsdir;
      int host = ::fcntl(fd->host.get(), F_GETFL);
      if (host < 0) return from_errno(errno);
      host = (flags & kFdAppend) ? (host | O_APPEND) : (host & ~O_APPEND);
      host = (flags & kFdNonblock) ? (host | O_NONBLOCK) : (host & ~O_NONBLOCK);
      if (::fcntl(fd->host.get(), F_SETFL, host) != 0) return from_errno(errno);
    }
    fd->flags = static_cast<uint16_t>((fd->flags & ~(kFdAppend | kFdNonblock)) | flags);
    return kSuccess;
  });
  def(impls, t, "fd_fdstat_set_rights", [](Call& c) -> uint32_t {
    // Rights may only shrink; we do not track them beyond read and write, so only check.
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    return (c.arg64(1) & ~fd->rights()) == 0 ? kSuccess : kNotcapable;
  });
}

// ---- timestamps --------------------------------------------------------------------------

// fstflags: atim 1, atim_now 2, mtim 4, mtim_now 8.
bool to_timespecs(uint64_t atim, uint64_t mtim, uint32_t fst, timespec out[2]) {
  if ((fst & ~0xfu) || ((fst & 1) && (fst & 2)) || ((fst & 4) && (fst & 8))) return false;
  auto one = [](uint64_t ns, bool set, bool now) {
    if (now) return timespec{0, UTIME_NOW};
    if (!set) return timespec{0, UTIME_OMIT};
    return timespec{static_cast<time_t>(ns / 1'000'000'000u),
                    static_cast<long>(ns % 1'000'000'000u)};
  };
  out[0] = one(atim, fst & 1, fst & 2);
  out[1] = one(mtim, fst & 4, fst & 8);
  return true;
}

void define_filestat(HostImpls& impls, const std::shared_ptr<FdTable>& t) {
  def(impls, t, "fd_filestat_get", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    struct stat st {};
    if (fd->is_stdio()) {
      st.st_mode = S_IFCHR;
    } else if (::fstat(fd->host.get(), &st) != 0) {
      return from_errno(errno);
    }
    if (!c.mem.ok(c.arg(1), kFilestatSize)) return kFault;
    encode_filestat(c.mem.at(c.arg(1)), st, filetype_of_mode(st.st_mode));
    return kSuccess;
  });
  def(impls, t, "fd_filestat_set_size", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    if (fd->is_dir()) return kIsdir;
    if (!fd->is_file() || !fd->writable) return kBadf;
    if (c.arg64(1) > static_cast<uint64_t>(INT64_MAX)) return kInval;
    return ::ftruncate(fd->host.get(), static_cast<off_t>(c.arg64(1))) == 0 ? kSuccess
                                                                            : from_errno(errno);
  });
  def(impls, t, "fd_filestat_set_times", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    if (fd->is_stdio()) return kBadf;
    if (fd->read_only_mount) return kPerm;
    timespec times[2];
    if (!to_timespecs(c.arg64(1), c.arg64(2), c.arg(3), times)) return kInval;
    return ::futimens(fd->host.get(), times) == 0 ? kSuccess : from_errno(errno);
  });
}

// ---- fd_readdir --------------------------------------------------------------------------

uint32_t take_listing(Fd& fd) {
  const int copy = ::openat(fd.host.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return from_errno(errno);
  DIR* dir = ::fdopendir(copy);
  if (!dir) {
    ::close(copy);
    return from_errno(errno);
  }
  const bool is_root = file_id(fd.host.get()) == fd.root;
  fd.listing.clear();
  while (const dirent* d = ::readdir(dir)) {
    DirEntry e{d->d_name, d->d_ino, kUnknownType};
    struct stat st {};
    switch (d->d_type) {
      case DT_DIR: e.type = kDirectory; break;
      case DT_REG: e.type = kRegularFile; break;
      case DT_LNK: e.type = kSymlink; break;
      case DT_CHR: e.type = kCharDevice; break;
      case DT_BLK: e.type = kBlockDevice; break;
      case DT_SOCK: e.type = kSocketStream; break;
      case DT_UNKNOWN:  // some file systems leave it to lstat (never follows: safe)
        if (::fstatat(::dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
          e.type = filetype_of_mode(st.st_mode);
        break;
      default: break;
    }
    if (is_root && e.name == "..") e.ino = fd.root.ino;  // say nothing about the host above
    fd.listing.push_back(std::move(e));
  }
  ::closedir(dir);
  std::sort(fd.listing.begin(), fd.listing.end(),
            [](const DirEntry& x, const DirEntry& y) { return x.name < y.name; });
  fd.listed = true;
  return kSuccess;
}

void define_readdir(HostImpls& impls, const std::shared_ptr<FdTable>& t) {
  // The listing is read at cookie 0 and kept, so resuming from any cookie (the index of the
  // next entry) sees the same entries in the same order. A full buffer ends with a cut record,
  // as the ABI asks (bufused == buf_len means "call again").
  def(impls, t, "fd_readdir", [](Call& c) -> uint32_t {
    Fd* fd = c.table.get(c.arg(0));
    if (!fd) return kBadf;
    if (!fd->is_dir()) return fd->is_stdio() ? kBadf : kNotdir;
    const uint32_t buf = c.arg(1), len = c.arg(2);
    const uint64_t cookie = c.arg64(3);
    if (!c.mem.ok(buf, len) || !c.mem.ok(c.arg(4), 4)) return kFault;
    if (cookie == 0 || !fd->listed) {
      if (uint32_t e = take_listing(*fd)) return e;
    }
    uint32_t used = 0;
    for (uint64_t i = cookie; i < fd->listing.size() && used < len; ++i) {
      const DirEntry& e = fd->listing[i];
      uint8_t head[kDirentSize] = {};
      const uint64_t next = i + 1;
      const uint32_t namelen = static_cast<uint32_t>(e.name.size());
      std::memcpy(head, &next, 8);
      std::memcpy(head + 8, &e.ino, 8);
      std::memcpy(head + 16, &namelen, 4);
      head[20] = e.type;
      const uint32_t n1 = std::min(kDirentSize, len - used);
      std::memcpy(c.mem.at(buf + used), head, n1);
      used += n1;
      const uint32_t n2 = std::min(namelen, len - used);
      std::memcpy(c.mem.at(buf + used), e.name.data(), n2);
      used += n2;
    }
    return c.mem.put<uint32_t>(c.arg(4), used) ? kSuccess : kFault;
  });
}

// ---- path_*: names beneath a directory fd ------------------------------------------------

void define_open(HostImpls& impls, const std::shared_ptr<FdTable>& t) {
  // path_open(fd, dirflags, path, path_len, oflags, rights_base, rights_inheriting, fdflags, *fd)
  def(impls, t, "path_open", [](Call& c) -> uint32_t {
    Fd* dir;
    if (uint32_t e = dir_fd(c, 0, dir)) return e;
    std::string path;
    if (!c.path(2, 3, path) || !c.mem.ok(c.arg(8), 4)) return kFault;
    const uint32_t oflags = c.arg(4), fdflags = c.arg(7);
    const uint64_t rights = c.arg64(5);
    if (oflags & ~0xfu) return kInval;
    const bool want_dir = oflags & kODirectory;
    const bool want_read = want_dir || (rights & (kRightFdRead | kRightFdReaddir));
    // Only FD_WRITE asks for a writable descriptor, as in wasmtime's preview1: Go's wasip1
    // runtime asks for FD_FILESTAT_SET_SIZE and more on its read-only opens, and counting
    // those would refuse every read on a read-only mount.
    const bool want_write = (!want_dir && (rights & kRightFdWrite)) ||
                            (oflags & (kOCreat | kOTrunc)) || (fdflags & kFdAppend);
    if (dir->read_only_mount && want_write) return kPerm;
    if (!c.table.has_room()) return kMfile;
    int flags = want_dir     ? (O_RDONLY | O_DIRECTORY)
                : want_write ? (want_read ? O_RDWR : O_WRONLY)
                             : O_RDONLY;
    if (oflags & kOCreat) flags |= O_CREAT;
    if (oflags & kOExcl) flags |= O_EXCL;
    if (oflags & kOTrunc) flags |= O_TRUNC;
    if (fdflags & kFdAppend) flags |= O_APPEND;
    if (fdflags & kFdDsync) flags |= O_DSYNC;
    if (fdflags & kFdRsync) flags |= O_RSYNC;
    if (fdflags & kFdSync) flags |= O_SYNC;
    // O_NONBLOCK while opening, so a FIFO placed in the mount cannot hang the call; kept for
    // anything but files and directories.
    const int h = open_beneath(dir->host.get(), path, flags | O_NONBLOCK | O_NOCTTY, 0644,
                               c.arg(1) & kLookupFollow);
    if (h < 0) return from_result(h);
    UniqueFd host(h);
    struct stat st {};
    if (::fstat(h, &st) != 0) return from_errno(errno);
    const bool plain = S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
    if (plain && !(fdflags & kFdNonblock)) ::fcntl(h, F_SETFL, ::fcntl(h, F_GETFL) & ~O_NONBLOCK);
    Fd fd;
    fd.kind = S_ISDIR(st.st_mode) ? Fd::Kind::kDirectory : Fd::Kind::kFile;
    fd.host = std::move(host);
    fd.readable = fd.is_dir() || (want_read && (flags & O_ACCMODE) != O_WRONLY) || !want_write;
    fd.writable = !fd.is_dir() && (flags & O_ACCMODE) != O_RDONLY;
    fd.read_only_mount = dir->read_only_mount;
    fd.flags = static_cast<uint16_t>(fdflags & 0x1f);
    fd.root = dir->root;
    const uint32_t n = c.table.add(std::move(fd));
    c.mem.put<uint32_t>(c.arg(8), n);  // checked above
    return kSuccess;
  });
  def(impls, t, "path_filestat_get", [](Call& c) -> uint32_t {
    Fd* dir;
    if (uint32_t e = dir_fd(c, 0, dir)) return e;
    std::string path;
    if (!c.path(2, 3, path) || !c.mem.ok(c.arg(4), kFilestatSize)) return kFault;
    const int h = open_beneath(dir->host.get(), path, O_PATH, 0, c.arg(1) & kLookupFollow);
    if (h < 0) return from_result(h);
    UniqueFd host(h);
    struct stat st {};
    if (::fstat(h, &st) != 0) return from_errno(errno);
    encode_filestat(c.mem.at(c.arg(4)), st, filetype_of_mode(st.st_mode));
    return kSuccess;
  });
  def(impls, t, "path_filestat_set_times", [](Call& c) -> uint32_t {
    Fd* dir;
    if (uint32_t e = dir_fd(c, 0, dir)) return e;
    std::string path;
    if (!c.path(2, 3, path)) return kFault;
    if (dir->read_only_mount) return kPerm;
    timespec times[2];
    if (!to_timespecs(c.arg64(4), c.arg64(5), c.arg(6), times)) return kInval;
    if (!(c.arg(1) & kLookupFollow)) {  // the name itself, even a symlink: act on it in its parent
      ParentAndName p;
      if (int e = open_parent(dir->host.get(), path, p)) return from_result(e);
      return ::utimensat(p.parent.get(), p.name.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0
                 ? kSuccess
                 : from_errno(errno);
    }
    // Followed: resolve beneath, then set the times of what was reached through its descriptor.
    const int h = open_beneath(dir->host.get(), path, O_PATH, 0, true);
    if (h < 0) return from_result(h);
    UniqueFd host(h);
    const std::string proc = "/proc/self/fd/" + std::to_string(h);
    if (::utimensat(AT_FDCWD, proc.c_str(), times, 0) == 0) return kSuccess;
    if (errno != ENOENT) return from_errno(errno);
    // No /proc: open the file itself (needs read permission).
    UniqueFd file(open_beneath(dir->host.get(), path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, true));
    if (!file) return kAcces;
    return ::futimens(file.get(), times) == 0 ? kSuccess : from_errno(errno);
  });
}

// Operations on one name: the parent is opened beneath the directory fd and the last component,
// a plain name, is acted on there with an *at call that never follows it.
using NameOp = std::function<uint32_t(const ParentAndName&, Fd& dir)>;
void define_name_op(HostImpls& impls, const std::shared_ptr<FdTable>& t, const char* name,
                    NameOp op) {
  def(impls, t, name, [op](Call& c) -> uint32_t {
    Fd* dir;
    if (uint32_t e = dir_fd(c, 0, dir)) return e;
    std::string path;
    if (!c.path(1, 2, path)) return kFault;
    if (dir->read_only_mount) return kPerm;
    ParentAndName p;
    if (int e = open_parent(dir->host.get(), path, p)) return from_result(e);
    return op(p, *dir);
  });
}

uint32_t result_of(int rc) { return rc == 0 ? kSuccess : from_errno(errno); }

void define_names(HostImpls& impls, const std::shared_ptr<FdTable>& t) {
  define_name_op(impls, t, "path_create_directory", [](const ParentAndName& p, Fd&) {
    return result_of(::mkdirat(p.parent.get(), p.name.c_str(), 0755));
  });
  define_name_op(impls, t, "path_remove_directory", [](const ParentAndName& p, Fd&) {
    return result_of(::unlinkat(p.parent.get(), p.name.c_str(), AT_REMOVEDIR));
  });
  define_name_op(impls, t, "path_unlink_file", [](const ParentAndName& p, Fd&) -> uint32_t {
    if (p.trailing_slash) {  // "name/" must be a directory, and directories are not unlinked
      struct stat st {};
      if (::fstatat(p.parent.get(), p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return from_errno(errno);
      return S_ISDIR(st.st_mode) ? kIsdir : kNotdir;
    }
    return result_of(::unlinkat(p.parent.get(), p.name.c_str(), 0));
  });
  // path_rename(fd, old_path, old_len, new_fd, new_path, new_len)
  def(impls, t, "path_rename", [](Call& c) -> uint32_t {
    Fd *from, *to;
    if (uint32_t e = dir_fd(c, 0, from)) return e;
    if (uint32_t e = dir_fd(c, 3, to)) return e;
    std::string old_path, new_path;
    if (!c.path(1, 2, old_path) || !c.path(4, 5, new_path)) return kFault;
    if (from->read_only_mount || to->read_only_mount) return kPerm;
    ParentAndName p1, p2;
    if (int e = open_parent(from->host.get(), old_path, p1)) return from_result(e);
    if (int e = open_parent(to->host.get(), new_path, p2)) return from_result(e);
    // A moved symlink (or a directory holding one) must not end up pointing out of the mount.
    if (!links_stay_beneath_after_move(to->root, p1.parent.get(), p1.name, p2.parent.get()))
      return kPerm;
    return result_of(
        ::renameat(p1.parent.get(), p1.name.c_str(), p2.parent.get(), p2.name.c_str()));
  });
  // path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len). A hard link adds
  // a name to a file, so both sides must be writable mounts.
  def(impls, t, "path_link", [](Call& c) -> uint32_t {
    Fd *from, *to;
    if (uint32_t e = dir_fd(c, 0, from)) return e;
    if (uint32_t e = dir_fd(c, 4, to)) return e;
    std::string old_path, new_path;
    if (!c.path(2, 3, old_path) || !c.path(5, 6, new_path)) return kFault;
    if (c.arg(1) & kLookupFollow) return kInval;  // linking a symlink's target: not supported
    if (from->read_only_mount || to->read_only_mount) return kPerm;
    ParentAndName p1, p2;
    if (int e = open_parent(from->host.get(), old_path, p1)) return from_result(e);
    if (int e = open_parent(to->host.get(), new_path, p2)) return from_result(e);
    // A hard link to a symlink is that symlink in a second place: it must stay beneath there.
    if (!links_stay_beneath_after_move(to->root, p1.parent.get(), p1.name, p2.parent.get()))
      return kPerm;
    return result_of(
        ::linkat(p1.parent.get(), p1.name.c_str(), p2.parent.get(), p2.name.c_str(), 0));
  });
  // path_readlink(fd, path, path_len, buf, buf_len, *bufused): the target, cut to buf_len.
  def(impls, t, "path_readlink", [](Call& c) -> uint32_t {
    Fd* dir;
    if (uint32_t e = dir_fd(c, 0, dir)) return e;
    std::string path;
    if (!c.path(1, 2, path) || !c.mem.ok(c.arg(3), c.arg(4)) || !c.mem.ok(c.arg(5), 4))
      return kFault;
    ParentAndName p;
    if (int e = open_parent(dir->host.get(), path, p)) return from_result(e);
    char target[PATH_MAX];
    const ssize_t n = ::readlinkat(p.parent.get(), p.name.c_str(), target, sizeof target);
    if (n < 0) return from_errno(errno);
    const uint32_t copy = std::min(static_cast<uint32_t>(n), c.arg(4));
    c.mem.write(c.arg(3), target, copy);
    c.mem.put<uint32_t>(c.arg(5), copy);
    return kSuccess;
  });
  // path_symlink(old_path, old_len, fd, new_path, new_len): a link at new_path whose target is
  // old_path. Targets that are absolute or climb above the mount are refused (EPERM) here, not
  // only when followed, so host programs reading the mount never meet them either.
  def(impls, t, "path_symlink", [](Call& c) -> uint32_t {
    Fd* dir;
    if (uint32_t e = dir_fd(c, 2, dir)) return e;
    std::string target, path;
    if (!c.path(0, 1, target) || !c.path(3, 4, path)) return kFault;
    if (dir->read_only_mount) return kPerm;
    if (target.empty()) return kNoent;
    if (target.find('\0') != std::string::npos) return kInval;
    ParentAndName p;
    if (int e = open_parent(dir->host.get(), path, p)) return from_result(e);
    if (!symlink_target_stays_beneath(dir->root, p.parent.get(), target)) return kPerm;
    return result_of(::symlinkat(target.c_str(), p.parent.get(), p.name.c_str()));
  });
}

}  // namespace

void define_files(HostImpls& impls, std::shared_ptr<FdTable> table) {
  define_prestat(impls, table);
  define_read_write(impls, table);
  define_position(impls, table);
  define_lifetime(impls, table);
  define_fdstat(impls, table);
  define_filestat(impls, table);
  define_readdir(impls, table);
  define_open(impls, table);
  define_names(impls, table);
}

}  // namespace warden::wasi
