#include "hostabi/wasi_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>

#include "vm/store.h"

namespace warden::wasi {
namespace {

using enum ValType;

// WASI errno values (wasi_snapshot_preview1 witx, `errno`).
enum : uint32_t {
  E_ACCES = 2, E_BADF = 8, E_EXIST = 20, E_FAULT = 21, E_INVAL = 28, E_IO = 29, E_ISDIR = 31,
  E_LOOP = 32, E_MFILE = 33, E_NAMETOOLONG = 37, E_NOENT = 44, E_NOMEM = 48, E_NOSPC = 51,
  E_NOSYS = 52, E_NOTDIR = 54, E_NOTEMPTY = 55, E_NOTSUP = 58, E_PERM = 63, E_ROFS = 69,
  E_SPIPE = 70, E_XDEV = 75,
};

uint32_t from_errno(int e) {
  switch (e) {
    case EACCES: return E_ACCES;
    case EBADF: return E_BADF;
    case EEXIST: return E_EXIST;
    case EINVAL: return E_INVAL;
    case EISDIR: return E_ISDIR;
    case ELOOP: return E_LOOP;  // a symlink where none may be followed
    case EMFILE: case ENFILE: return E_MFILE;
    case ENAMETOOLONG: return E_NAMETOOLONG;
    case ENOENT: return E_NOENT;
    case ENOMEM: return E_NOMEM;
    case ENOSPC: return E_NOSPC;
    case ENOTDIR: return E_NOTDIR;
    case ENOTEMPTY: return E_NOTEMPTY;
    case EPERM: return E_PERM;
    case EROFS: return E_ROFS;
    case ESPIPE: return E_SPIPE;
    case EXDEV: return E_PERM;  // RESOLVE_BENEATH: the path tried to leave its directory
    case EOPNOTSUPP: return E_NOTSUP;
    default: return E_IO;
  }
}

// Filetypes and rights bits used here.
constexpr uint8_t kCharDevice = 2, kDirectory = 3, kRegularFile = 4, kSymlink = 7, kUnknown = 0;
constexpr uint64_t kRightRead = 1 << 1, kRightSeek = 1 << 2, kRightWrite = 1 << 6;
constexpr uint64_t kAllRights = (uint64_t{1} << 30) - 1;
constexpr uint16_t kFdAppend = 1;
constexpr uint16_t kOCreat = 1, kODirectory = 2, kOExcl = 4, kOTrunc = 8;

uint8_t filetype(mode_t mode) {
  if (S_ISDIR(mode)) return kDirectory;
  if (S_ISREG(mode)) return kRegularFile;
  if (S_ISLNK(mode)) return kSymlink;
  if (S_ISCHR(mode)) return kCharDevice;
  return kUnknown;
}

struct Fd {
  int host = -1;  // -1 for stdio
  bool directory = false;
  bool read_only_mount = false;
  bool readable = false, writable = false;
  bool append = false;
  std::string preopen;  // guest path of a preopened directory
};

class Files {
 public:
  explicit Files(std::shared_ptr<const WasiConfig> config) : config_(std::move(config)) {
    fds_[0] = Fd{.readable = true};
    fds_[1] = Fd{.writable = true};
    fds_[2] = Fd{.writable = true};
    uint32_t next = 3;
    for (const auto& m : config_->mounts) {
      const int h = ::open(m.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      // A mount that cannot be opened is left out; Plugin::create checks them first.
      if (h < 0) continue;
      fds_[next++] = Fd{.host = h, .directory = true, .read_only_mount = m.read_only,
                        .readable = true, .preopen = m.guest_path};
    }
  }
  ~Files() {
    for (auto& [n, fd] : fds_)
      if (fd.host >= 0) ::close(fd.host);
  }
  Fd* get(uint32_t n) {
    auto it = fds_.find(n);
    return it == fds_.end() ? nullptr : &it->second;
  }
  uint32_t add(Fd fd) {
    uint32_t n = 3;
    while (fds_.count(n)) ++n;
    fds_[n] = std::move(fd);
    return n;
  }
  void close(uint32_t n) {
    auto it = fds_.find(n);
    if (it->second.host >= 0) ::close(it->second.host);
    fds_.erase(it);
  }
  bool renumber(uint32_t from, uint32_t to) {
    auto f = fds_.find(from), t = fds_.find(to);
    if (f == fds_.end() || t == fds_.end()) return false;
    if (from == to) return true;
    if (t->second.host >= 0) ::close(t->second.host);
    t->second = f->second;
    fds_.erase(f);
    return true;
  }
  const WasiConfig& config() const { return *config_; }

 private:
  std::shared_ptr<const WasiConfig> config_;
  std::map<uint32_t, Fd> fds_;
};

class Mem {
 public:
  explicit Mem(CallContext& ctx) : m_(ctx.memory()) {}
  bool ok(uint64_t addr, uint64_t len) const { return m_ && addr <= m_->size() && len <= m_->size() - addr; }
  uint8_t* at(uint64_t addr) { return m_->data() + addr; }
  template <typename T>
  bool put(uint64_t addr, T v) {
    if (!ok(addr, sizeof v)) return false;
    std::memcpy(at(addr), &v, sizeof v);
    return true;
  }
  template <typename T>
  bool get(uint64_t addr, T& v) {
    if (!ok(addr, sizeof v)) return false;
    std::memcpy(&v, at(addr), sizeof v);
    return true;
  }
  bool string(uint64_t addr, uint32_t len, std::string& out) {
    if (!ok(addr, len)) return false;
    out.assign(reinterpret_cast<const char*>(at(addr)), len);
    return true;
  }

 private:
  Memory* m_;
};

uint32_t u32(const Value& v) { return static_cast<uint32_t>(v.bits); }

// Opens `path` beneath directory `dir`. The kernel refuses anything that would leave it.
int open_beneath(int dir, const std::string& path, uint64_t flags, bool follow) {
  if (path.find('\0') != std::string::npos) {
    errno = EINVAL;
    return -1;
  }
  open_how how{};
  how.flags = flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
  how.mode = (flags & O_CREAT) ? 0644 : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, dir, path.empty() ? "." : path.c_str(), &how, sizeof how));
}

// Splits "a/b/c" into an fd for "a/b" (opened beneath `dir`) and "c". The last component must be
// a plain name: "", "." and ".." are refused (EINVAL / EPERM).
struct Parent {
  int fd = -1;
  std::string name;
  uint32_t error = 0;
  ~Parent() {
    if (fd >= 0) ::close(fd);
  }
};
void open_parent(int dir, std::string path, Parent& out) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "." : path.substr(0, slash);
  if (slash == 0) parent = "/";  // absolute: refused by open_beneath
  out.name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (out.name.empty() || out.name == ".") {
    out.error = E_INVAL;
    return;
  }
  if (out.name == "..") {
    out.error = E_PERM;
    return;
  }
  out.fd = open_beneath(dir, parent, O_PATH | O_DIRECTORY, true);
  if (out.fd < 0) out.error = from_errno(errno);
}

void write_filestat(uint8_t* p, const struct stat& st) {
  std::memset(p, 0, 64);
  uint64_t v = st.st_dev;
  std::memcpy(p + 0, &v, 8);
  v = st.st_ino;
  std::memcpy(p + 8, &v, 8);
  p[16] = filetype(st.st_mode);
  v = st.st_nlink;
  std::memcpy(p + 24, &v, 8);
  v = static_cast<uint64_t>(st.st_size);
  std::memcpy(p + 32, &v, 8);
  auto ns = [](const timespec& t) { return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec); };
  v = ns(st.st_atim);
  std::memcpy(p + 40, &v, 8);
  v = ns(st.st_mtim);
  std::memcpy(p + 48, &v, 8);
  v = ns(st.st_ctim);
  std::memcpy(p + 56, &v, 8);
}

using Impl = std::function<uint32_t(Files&, CallContext&, std::span<const Value>)>;

void def(Linker& linker, const std::shared_ptr<Files>& files, const char* name, std::vector<ValType> params,
         Impl impl) {
  linker.define_function(kModule, name, FuncType{std::move(params), {I32}},
                         [files, impl = std::move(impl)](CallContext& ctx, std::span<const Value> a,
                                                         std::span<Value> r) -> HostResult {
                           r[0] = Value::i32(static_cast<int32_t>(impl(*files, ctx, a)));
                           return {};
                         });
}

// Gathers or scatters iovecs: calls `io(ptr, len)` for each; stops early on a short transfer.
template <typename Io>
uint32_t each_iovec(Mem& mem, uint32_t iovs, uint32_t count, uint64_t& total, Io io) {
  total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t ptr, len;
    if (!mem.get(iovs + 8ull * i, ptr) || !mem.get(iovs + 8ull * i + 4, len)) return E_FAULT;
    if (!mem.ok(ptr, len)) return E_FAULT;
    const ssize_t n = io(mem.at(ptr), len);
    if (n < 0) return from_errno(errno);
    total += static_cast<uint64_t>(n);
    if (static_cast<uint32_t>(n) < len) break;
  }
  return 0;
}

}  // namespace

void define_files(Linker& linker, std::shared_ptr<const WasiConfig> config) {
  auto files = std::make_shared<Files>(std::move(config));

  def(linker, files, "fd_prestat_get", {I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd || fd->preopen.empty()) return E_BADF;
    Mem mem(ctx);
    return mem.put<uint32_t>(u32(a[1]), 0) && mem.put<uint32_t>(u32(a[1]) + 4, static_cast<uint32_t>(fd->preopen.size()))
               ? 0 : E_FAULT;
  });
  def(linker, files, "fd_prestat_dir_name", {I32, I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd || fd->preopen.empty()) return E_BADF;
    Mem mem(ctx);
    if (u32(a[2]) < fd->preopen.size()) return E_INVAL;
    if (!mem.ok(u32(a[1]), fd->preopen.size())) return E_FAULT;
    std::memcpy(mem.at(u32(a[1])), fd->preopen.data(), fd->preopen.size());
    return 0;
  });
  def(linker, files, "fd_write", {I32, I32, I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    const uint32_t n = u32(a[0]);
    Fd* fd = f.get(n);
    if (!fd || !fd->writable) return E_BADF;
    Mem mem(ctx);
    uint64_t total = 0;
    uint32_t e;
    if (fd->host < 0) {
      std::string out;
      e = each_iovec(mem, u32(a[1]), u32(a[2]), total, [&](uint8_t* p, uint32_t len) -> ssize_t {
        out.append(reinterpret_cast<const char*>(p), len);
        return len;
      });
      if (e) return e;
      const auto& sink = n == 1 ? f.config().write_stdout : f.config().write_stderr;
      if (sink) {
        sink(out);
      } else {
        std::fwrite(out.data(), 1, out.size(), n == 1 ? stdout : stderr);
      }
    } else {
      e = each_iovec(mem, u32(a[1]), u32(a[2]), total,
                     [&](uint8_t* p, uint32_t len) { return ::write(fd->host, p, len); });
      if (e) return e;
    }
    return mem.put<uint32_t>(u32(a[3]), static_cast<uint32_t>(total)) ? 0 : E_FAULT;
  });
  def(linker, files, "fd_pwrite", {I32, I32, I32, I64, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd || !fd->writable || fd->host < 0) return E_BADF;
    Mem mem(ctx);
    uint64_t total = 0;
    off_t at = static_cast<off_t>(a[3].bits);
    if (auto e = each_iovec(mem, u32(a[1]), u32(a[2]), total, [&](uint8_t* p, uint32_t len) {
          const ssize_t n = ::pwrite(fd->host, p, len, at);
          if (n > 0) at += n;
          return n;
        }))
      return e;
    return mem.put<uint32_t>(u32(a[4]), static_cast<uint32_t>(total)) ? 0 : E_FAULT;
  });
  def(linker, files, "fd_read", {I32, I32, I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd || !fd->readable || fd->directory) return fd && fd->directory ? E_ISDIR : E_BADF;
    Mem mem(ctx);
    uint64_t total = 0;
    // stdin (host < 0) is always at end of file; its iovecs are still checked.
    if (auto e = each_iovec(mem, u32(a[1]), u32(a[2]), total, [&](uint8_t* p, uint32_t len) -> ssize_t {
          return fd->host < 0 ? 0 : ::read(fd->host, p, len);
        }))
      return e;
    return mem.put<uint32_t>(u32(a[3]), static_cast<uint32_t>(total)) ? 0 : E_FAULT;
  });
  def(linker, files, "fd_pread", {I32, I32, I32, I64, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd || !fd->readable || fd->host < 0 || fd->directory) return E_BADF;
    Mem mem(ctx);
    uint64_t total = 0;
    off_t at = static_cast<off_t>(a[3].bits);
    if (auto e = each_iovec(mem, u32(a[1]), u32(a[2]), total, [&](uint8_t* p, uint32_t len) {
          const ssize_t n = ::pread(fd->host, p, len, at);
          if (n > 0) at += n;
          return n;
        }))
      return e;
    return mem.put<uint32_t>(u32(a[4]), static_cast<uint32_t>(total)) ? 0 : E_FAULT;
  });
  def(linker, files, "fd_seek", {I32, I64, I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd) return E_BADF;
    if (fd->host < 0) return E_SPIPE;
    if (fd->directory) return E_ISDIR;
    const int whence[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    if (u32(a[2]) > 2) return E_INVAL;
    const off_t pos = ::lseek(fd->host, static_cast<off_t>(a[1].bits), whence[u32(a[2])]);
    if (pos < 0) return from_errno(errno);
    return Mem(ctx).put<uint64_t>(u32(a[3]), static_cast<uint64_t>(pos)) ? 0 : E_FAULT;
  });
  def(linker, files, "fd_tell", {I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd) return E_BADF;
    if (fd->host < 0) return E_SPIPE;
    const off_t pos = ::lseek(fd->host, 0, SEEK_CUR);
    if (pos < 0) return from_errno(errno);
    return Mem(ctx).put<uint64_t>(u32(a[1]), static_cast<uint64_t>(pos)) ? 0 : E_FAULT;
  });
  def(linker, files, "fd_close", {I32}, [](Files& f, CallContext&, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd) return E_BADF;
    if (!fd->preopen.empty() || fd->host < 0) return E_NOTSUP;  // keep stdio and mounts
    f.close(u32(a[0]));
    return 0;
  });
  def(linker, files, "fd_renumber", {I32, I32}, [](Files& f, CallContext&, auto a) -> uint32_t {
    Fd* from = f.get(u32(a[0]));
    Fd* to = f.get(u32(a[1]));
    if (!from || !to) return E_BADF;
    if (!from->preopen.empty() || !to->preopen.empty() || from->host < 0 || to->host < 0) return E_NOTSUP;
    return f.renumber(u32(a[0]), u32(a[1])) ? 0 : E_BADF;
  });
  for (const char* name : {"fd_sync", "fd_datasync"}) {
    def(linker, files, name, {I32}, [](Files& f, CallContext&, auto a) -> uint32_t {
      Fd* fd = f.get(u32(a[0]));
      if (!fd) return E_BADF;
      if (fd->host >= 0 && fd->writable && ::fsync(fd->host) != 0) return from_errno(errno);
      return 0;
    });
  }
  def(linker, files, "fd_fdstat_get", {I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd) return E_BADF;
    uint8_t stat[24] = {};
    uint64_t rights = 0;
    if (fd->host < 0) {
      stat[0] = kCharDevice;
      rights = fd->readable ? kRightRead : kRightWrite;
    } else {
      stat[0] = fd->directory ? kDirectory : kRegularFile;
      rights = fd->directory ? (kAllRights & ~(kRightRead | kRightWrite | kRightSeek))
                             : ((fd->readable ? kRightRead : 0) | (fd->writable ? kRightWrite : 0) | kRightSeek);
      if (fd->append) stat[2] = kFdAppend;
    }
    std::memcpy(stat + 8, &rights, 8);
    const uint64_t inheriting = fd->directory ? kAllRights : 0;
    std::memcpy(stat + 16, &inheriting, 8);
    Mem mem(ctx);
    if (!mem.ok(u32(a[1]), sizeof stat)) return E_FAULT;
    std::memcpy(mem.at(u32(a[1])), stat, sizeof stat);
    return 0;
  });
  def(linker, files, "fd_fdstat_set_flags", {I32, I32}, [](Files& f, CallContext&, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd) return E_BADF;
    if (fd->host < 0 || fd->directory) return u32(a[1]) == 0 ? 0 : E_NOTSUP;
    const bool append = u32(a[1]) & kFdAppend;
    if (u32(a[1]) & ~uint32_t{kFdAppend}) return E_NOTSUP;
    const int flags = ::fcntl(fd->host, F_GETFL);
    if (::fcntl(fd->host, F_SETFL, append ? (flags | O_APPEND) : (flags & ~O_APPEND)) != 0) return from_errno(errno);
    fd->append = append;
    return 0;
  });
  def(linker, files, "fd_filestat_get", {I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd) return E_BADF;
    struct stat st{};
    if (fd->host < 0) {
      st.st_mode = S_IFCHR;
    } else if (::fstat(fd->host, &st) != 0) {
      return from_errno(errno);
    }
    Mem mem(ctx);
    if (!mem.ok(u32(a[1]), 64)) return E_FAULT;
    write_filestat(mem.at(u32(a[1])), st);
    return 0;
  });
  def(linker, files, "fd_filestat_set_size", {I32, I64}, [](Files& f, CallContext&, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd || fd->host < 0 || !fd->writable) return E_BADF;
    return ::ftruncate(fd->host, static_cast<off_t>(a[1].bits)) == 0 ? 0 : from_errno(errno);
  });
  def(linker, files, "fd_readdir", {I32, I32, I32, I64, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* fd = f.get(u32(a[0]));
    if (!fd || fd->host < 0) return E_BADF;
    if (!fd->directory) return E_NOTDIR;
    const int dup_fd = ::openat(fd->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup_fd < 0) return from_errno(errno);
    DIR* dir = ::fdopendir(dup_fd);
    if (!dir) {
      ::close(dup_fd);
      return from_errno(errno);
    }
    struct Entry {
      std::string name;
      uint64_t ino;
      uint8_t type;
    };
    std::vector<Entry> entries;
    while (dirent* d = ::readdir(dir)) {
      uint8_t type = kUnknown;
      if (d->d_type == DT_DIR) type = kDirectory;
      else if (d->d_type == DT_REG) type = kRegularFile;
      else if (d->d_type == DT_LNK) type = kSymlink;
      else if (d->d_type == DT_CHR) type = kCharDevice;
      entries.push_back({d->d_name, d->d_ino, type});
    }
    ::closedir(dir);
    std::sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) { return x.name < y.name; });
    Mem mem(ctx);
    const uint32_t buf = u32(a[1]), len = u32(a[2]);
    if (!mem.ok(buf, len)) return E_FAULT;
    uint64_t used = 0;
    // The cookie is the index of the next entry: resumable across calls.
    for (uint64_t i = a[3].bits; i < entries.size() && used < len; ++i) {
      uint8_t head[24] = {};
      const uint64_t next = i + 1;
      std::memcpy(head, &next, 8);
      std::memcpy(head + 8, &entries[i].ino, 8);
      const uint32_t namelen = static_cast<uint32_t>(entries[i].name.size());
      std::memcpy(head + 16, &namelen, 4);
      head[20] = entries[i].type;
      std::string record(reinterpret_cast<const char*>(head), 24);
      record += entries[i].name;
      const uint64_t n = std::min<uint64_t>(record.size(), len - used);  // a full buffer cuts the last
      std::memcpy(mem.at(buf + used), record.data(), n);
      used += n;
    }
    return mem.put<uint32_t>(u32(a[4]), static_cast<uint32_t>(used)) ? 0 : E_FAULT;
  });
  def(linker, files, "path_open", {I32, I32, I32, I32, I32, I64, I64, I32, I32},
      [](Files& f, CallContext& ctx, auto a) -> uint32_t {
        Fd* dir = f.get(u32(a[0]));
        if (!dir || !dir->directory) return dir ? E_NOTDIR : E_BADF;
        Mem mem(ctx);
        std::string path;
        if (!mem.string(u32(a[2]), u32(a[3]), path)) return E_FAULT;
        const uint32_t oflags = u32(a[4]);
        const uint64_t rights = a[5].bits;
        const uint32_t fdflags = u32(a[7]);
        const bool want_write = (rights & kRightWrite) || (oflags & (kOCreat | kOTrunc)) || (fdflags & kFdAppend);
        if (dir->read_only_mount && want_write) return E_PERM;
        const bool want_dir = oflags & kODirectory;
        uint64_t flags = 0;
        if (want_dir) {
          flags = O_RDONLY | O_DIRECTORY;
        } else {
          const bool want_read = rights & kRightRead;
          flags = want_write ? (want_read ? O_RDWR : O_WRONLY) : O_RDONLY;
        }
        if (oflags & kOCreat) flags |= O_CREAT;
        if (oflags & kOExcl) flags |= O_EXCL;
        if (oflags & kOTrunc) flags |= O_TRUNC;
        if (fdflags & kFdAppend) flags |= O_APPEND;
        int h = open_beneath(dir->host, path, flags, u32(a[1]) & 1);
        if (h < 0 && errno == EISDIR && !want_dir && !want_write) h = open_beneath(dir->host, path, O_RDONLY | O_DIRECTORY, u32(a[1]) & 1);
        if (h < 0) return from_errno(errno);
        struct stat st{};
        ::fstat(h, &st);
        Fd fd;
        fd.host = h;
        fd.directory = S_ISDIR(st.st_mode);
        fd.read_only_mount = dir->read_only_mount;
        fd.readable = fd.directory || (flags & O_ACCMODE) != O_WRONLY;
        fd.writable = !fd.directory && (flags & O_ACCMODE) != O_RDONLY;
        fd.append = fdflags & kFdAppend;
        const uint32_t n = f.add(std::move(fd));
        if (!mem.put<uint32_t>(u32(a[8]), n)) {
          f.close(n);
          return E_FAULT;
        }
        return 0;
      });
  def(linker, files, "path_filestat_get", {I32, I32, I32, I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* dir = f.get(u32(a[0]));
    if (!dir || !dir->directory) return dir ? E_NOTDIR : E_BADF;
    Mem mem(ctx);
    std::string path;
    if (!mem.string(u32(a[2]), u32(a[3]), path)) return E_FAULT;
    const int h = open_beneath(dir->host, path, O_PATH, u32(a[1]) & 1);
    if (h < 0) return from_errno(errno);
    struct stat st{};
    const int rc = ::fstat(h, &st);
    ::close(h);
    if (rc != 0) return from_errno(errno);
    if (!mem.ok(u32(a[4]), 64)) return E_FAULT;
    write_filestat(mem.at(u32(a[4])), st);
    return 0;
  });
  // Directory changes: the parent is opened beneath the mount, the last name is acted on there.
  auto change = [&](const char* name, std::function<int(int parent, const std::string& leaf)> op) {
    def(linker, files, name, {I32, I32, I32}, [op](Files& f, CallContext& ctx, auto a) -> uint32_t {
      Fd* dir = f.get(u32(a[0]));
      if (!dir || !dir->directory) return dir ? E_NOTDIR : E_BADF;
      if (dir->read_only_mount) return E_PERM;
      std::string path;
      if (!Mem(ctx).string(u32(a[1]), u32(a[2]), path)) return E_FAULT;
      Parent p;
      open_parent(dir->host, path, p);
      if (p.error) return p.error;
      return op(p.fd, p.name) == 0 ? 0 : from_errno(errno);
    });
  };
  change("path_create_directory", [](int p, const std::string& leaf) { return ::mkdirat(p, leaf.c_str(), 0755); });
  change("path_unlink_file", [](int p, const std::string& leaf) { return ::unlinkat(p, leaf.c_str(), 0); });
  change("path_remove_directory", [](int p, const std::string& leaf) { return ::unlinkat(p, leaf.c_str(), AT_REMOVEDIR); });
  def(linker, files, "path_rename", {I32, I32, I32, I32, I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* from = f.get(u32(a[0]));
    Fd* to = f.get(u32(a[3]));
    if (!from || !to) return E_BADF;
    if (!from->directory || !to->directory) return E_NOTDIR;
    if (from->read_only_mount || to->read_only_mount) return E_PERM;
    Mem mem(ctx);
    std::string old_path, new_path;
    if (!mem.string(u32(a[1]), u32(a[2]), old_path) || !mem.string(u32(a[4]), u32(a[5]), new_path)) return E_FAULT;
    Parent p1, p2;
    open_parent(from->host, old_path, p1);
    if (p1.error) return p1.error;
    open_parent(to->host, new_path, p2);
    if (p2.error) return p2.error;
    return ::renameat(p1.fd, p1.name.c_str(), p2.fd, p2.name.c_str()) == 0 ? 0 : from_errno(errno);
  });
  def(linker, files, "path_readlink", {I32, I32, I32, I32, I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* dir = f.get(u32(a[0]));
    if (!dir || !dir->directory) return dir ? E_NOTDIR : E_BADF;
    Mem mem(ctx);
    std::string path;
    if (!mem.string(u32(a[1]), u32(a[2]), path)) return E_FAULT;
    Parent p;
    open_parent(dir->host, path, p);
    if (p.error) return p.error;
    char target[4096];
    const ssize_t n = ::readlinkat(p.fd, p.name.c_str(), target, sizeof target);
    if (n < 0) return from_errno(errno);
    const uint32_t copy = std::min<uint32_t>(static_cast<uint32_t>(n), u32(a[4]));
    if (!mem.ok(u32(a[3]), copy)) return E_FAULT;
    std::memcpy(mem.at(u32(a[3])), target, copy);
    return mem.put<uint32_t>(u32(a[5]), copy) ? 0 : E_FAULT;
  });
  def(linker, files, "path_symlink", {I32, I32, I32, I32, I32}, [](Files& f, CallContext& ctx, auto a) -> uint32_t {
    Fd* dir = f.get(u32(a[2]));
    if (!dir || !dir->directory) return dir ? E_NOTDIR : E_BADF;
    if (dir->read_only_mount) return E_PERM;
    Mem mem(ctx);
    std::string target, path;
    if (!mem.string(u32(a[0]), u32(a[1]), target) || !mem.string(u32(a[3]), u32(a[4]), path)) return E_FAULT;
    // Absolute targets would point outside the mount; relative ones are checked on every use.
    if (target.starts_with("/")) return E_PERM;
    Parent p;
    open_parent(dir->host, path, p);
    if (p.error) return p.error;
    return ::symlinkat(target.c_str(), p.fd, p.name.c_str()) == 0 ? 0 : from_errno(errno);
  });
  // poll_oneoff: clock subscriptions sleep (waking to honour the call's timeout or a cancel);
  // fd subscriptions are ready at once.
  def(linker, files, "poll_oneoff", {I32, I32, I32, I32}, [](Files&, CallContext& ctx, auto a) -> uint32_t {
    Mem mem(ctx);
    const uint32_t in = u32(a[0]), out = u32(a[1]), count = u32(a[2]);
    if (count == 0) return E_INVAL;
    if (!mem.ok(in, 48ull * count) || !mem.ok(out, 32ull * count)) return E_FAULT;
    using Clock = std::chrono::steady_clock;
    const auto now = Clock::now();
    std::optional<Clock::time_point> wake;
    std::vector<uint32_t> ready_fds;
    for (uint32_t i = 0; i < count; ++i) {
      const uint8_t* s = mem.at(in + 48ull * i);
      if (s[8] == 0) {  // clock
        uint64_t timeout;
        uint16_t flags;
        std::memcpy(&timeout, s + 24, 8);
        std::memcpy(&flags, s + 40, 2);
        auto delay = std::chrono::nanoseconds(timeout);
        if (flags & 1) {  // absolute: relative to the clock's now
          uint32_t id;
          std::memcpy(&id, s + 16, 4);
          const uint64_t clock_now = id == 0
              ? static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count())
              : static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
          delay = std::chrono::nanoseconds(timeout > clock_now ? timeout - clock_now : 0);
        }
        const auto at = now + std::min(delay, std::chrono::nanoseconds(std::chrono::hours(24 * 365)));
        if (!wake || at < *wake) wake = at;
      }
    }
    bool any_fd = false;
    for (uint32_t i = 0; i < count; ++i) any_fd |= mem.at(in + 48ull * i)[8] != 0;
    if (!any_fd && wake) {
      while (Clock::now() < *wake && !ctx.store.interrupt_pending())
        std::this_thread::sleep_for(std::min<Clock::duration>(*wake - Clock::now(), std::chrono::milliseconds(10)));
    }
    uint32_t events = 0;
    const bool clock_fired = !any_fd;
    for (uint32_t i = 0; i < count; ++i) {
      const uint8_t* s = mem.at(in + 48ull * i);
      const uint8_t tag = s[8];
      if (tag == 0 && !clock_fired) continue;
      uint8_t event[32] = {};
      std::memcpy(event, s, 8);  // userdata
      event[10] = tag;
      if (tag != 0) {
        const uint64_t nbytes = 0;
        std::memcpy(event + 16, &nbytes, 8);
      }
      std::memcpy(mem.at(out + 32ull * events), event, 32);
      ++events;
    }
    return mem.put<uint32_t>(u32(a[3]), events) ? 0 : E_FAULT;
  });
}

}  // namespace warden::wasi
