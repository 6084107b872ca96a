// One instance's WASI file descriptors: stdio (0, 1, 2), the preopened mounts (3, 4, ...) and the
// files and directories opened beneath them. Made by each define_wasi call and shared by the
// functions it defines; a mutex makes it safe if one Linker serves Stores on several threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hostabi/wasi/wasi.h"
#include "hostabi/wasi/wasi_path.h"

namespace warden::wasi {

// WASI filetypes (witx `filetype`).
enum Filetype : uint8_t {
  kUnknownType = 0,
  kBlockDevice = 1,
  kCharDevice = 2,
  kDirectory = 3,
  kRegularFile = 4,
  kSocketDgram = 5,
  kSocketStream = 6,
  kSymlink = 7,
};
Filetype filetype_of_mode(uint32_t mode);

// WASI fdflags (witx `fdflags`).
enum Fdflag : uint16_t {
  kFdAppend = 1,
  kFdDsync = 2,
  kFdNonblock = 4,
  kFdRsync = 8,
  kFdSync = 16,
};

// WASI rights (witx `rights`) used here.
inline constexpr uint64_t kRightFdDatasync = 1ull << 0;
inline constexpr uint64_t kRightFdRead = 1ull << 1;
inline constexpr uint64_t kRightFdSeek = 1ull << 2;
inline constexpr uint64_t kRightFdFdstatSetFlags = 1ull << 3;
inline constexpr uint64_t kRightFdSync = 1ull << 4;
inline constexpr uint64_t kRightFdTell = 1ull << 5;
inline constexpr uint64_t kRightFdWrite = 1ull << 6;
inline constexpr uint64_t kRightFdAdvise = 1ull << 7;
inline constexpr uint64_t kRightFdAllocate = 1ull << 8;
inline constexpr uint64_t kRightFdReaddir = 1ull << 14;
inline constexpr uint64_t kRightFdFilestatGet = 1ull << 21;
inline constexpr uint64_t kRightFdFilestatSetSize = 1ull << 22;
inline constexpr uint64_t kRightFdFilestatSetTimes = 1ull << 23;
inline constexpr uint64_t kRightPollFdReadwrite = 1ull << 27;
inline constexpr uint64_t kAllRights = (1ull << 30) - 1;

struct DirEntry {
  std::string name;
  uint64_t ino = 0;
  Filetype type = kUnknownType;
};

struct Fd {
  enum class Kind : uint8_t { kStdin, kStdout, kStderr, kFile, kDirectory };
  Kind kind = Kind::kFile;
  UniqueFd host;                  // files and directories
  bool readable = false;          // fd_read allowed (the fd_read right was asked for)
  bool writable = false;          // fd_write allowed
  bool read_only_mount = false;   // beneath a read-only mount: no change of any kind
  uint16_t flags = 0;             // Fdflag bits
  std::string preopen;            // a mount's guest path; empty for everything else
  FileId root;                    // the mount this fd lies beneath
  std::vector<DirEntry> listing;  // fd_readdir's snapshot, taken at cookie 0
  bool listed = false;

  bool is_stdio() const { return kind <= Kind::kStderr; }
  bool is_dir() const { return kind == Kind::kDirectory; }
  bool is_file() const { return kind == Kind::kFile; }
  Filetype filetype() const;
  uint64_t rights() const;             // fs_rights_base reported by fd_fdstat_get
  uint64_t inheriting_rights() const;  // fs_rights_inheriting
};

class FdTable {
 public:
  explicit FdTable(std::shared_ptr<const WasiConfig> config);

  Fd* get(uint32_t n);
  // False when max_open_files files and directories are already open.
  bool has_room() const { return opened_ < config_->max_open_files; }
  // Adds `fd` at the lowest free number >= 3 and returns that number.
  uint32_t add(Fd fd);
  void close(uint32_t n);
  // Moves `from` onto `to` (which must exist), closing what `to` held.
  void renumber(uint32_t from, uint32_t to);

  const WasiConfig& config() const { return *config_; }
  std::mutex& mutex() { return mutex_; }
  size_t stdin_offset = 0;  // how much of config().stdin_data fd 0 has read

 private:
  std::shared_ptr<const WasiConfig> config_;
  std::map<uint32_t, Fd> fds_;
  uint32_t opened_ = 0;  // entries that are neither stdio nor preopens
  std::mutex mutex_;
};

// Defines fd_*, path_* (hostabi/wasi/wasi_fs.cc) and poll_oneoff (hostabi/wasi/wasi_poll.cc) on `table`.
void define_files(extism::HostImpls& impls, std::shared_ptr<FdTable> table);
void define_poll(extism::HostImpls& impls, std::shared_ptr<FdTable> table);

}  // namespace warden::wasi
