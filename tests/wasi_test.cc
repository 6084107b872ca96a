// WASI preview1 (hostabi/wasi*.cc): path resolution beneath a mount with both resolvers; the ABI
// called directly from a WAT guest (exact errnos, struct layouts, bad pointers); a wasi-libc
// command doing real file work; and the same through the Extism Plugin API. Every way out of a
// mount is tried: `..`, absolute paths, symlinks to outside as the last or a middle component, a
// symlink to /etc, a `..` chain in a symlink, and writes on a read-only mount.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "hostabi/plugin.h"
#include "hostabi/wasi/wasi.h"
#include "hostabi/wasi/wasi_path.h"
#include "vm/store.h"

namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A temporary tree:
//   mount/a.txt "hello file", mount/sub/deeper/, mount/inside -> a.txt,
//   mount/sub/up_inside -> ../a.txt, mount/escape -> ../outside/secret.txt,
//   mount/outdir -> ../outside, mount/etc -> /etc, mount/sub/deeper/upup -> ../../../outside,
//   mount/dotdot -> .., mount/loop -> loop, mount/new_out -> ../outside/created.txt (dangling),
//   outside/secret.txt "secret".
struct Tree {
  fs::path root, mount, outside;
  Tree() {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& ch : name)
      if (ch == '/') ch = '_';  // parameterised tests are named "Test/Param"
    root = fs::temp_directory_path() / ("warden-wasi-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(root);
    mount = root / "mount";
    outside = root / "outside";
    fs::create_directories(mount / "sub" / "deeper");
    fs::create_directories(outside);
    std::ofstream(mount / "a.txt") << "hello file";
    std::ofstream(outside / "secret.txt") << "secret";
    fs::create_symlink("a.txt", mount / "inside");
    fs::create_symlink("../a.txt", mount / "sub" / "up_inside");
    fs::create_symlink("../outside/secret.txt", mount / "escape");
    fs::create_symlink("../outside", mount / "outdir");
    fs::create_symlink("/etc", mount / "etc");
    fs::create_symlink("../../../outside", mount / "sub" / "deeper" / "upup");
    fs::create_symlink("..", mount / "dotdot");
    fs::create_symlink("loop", mount / "loop");
    fs::create_symlink("../outside/created.txt", mount / "new_out");
  }
  ~Tree() { fs::remove_all(root); }
};

}  // namespace

namespace warden::wasi {
namespace {

// ---- path resolution, with the kernel's resolver and the user-space walk -----------------

class Resolve : public ::testing::TestWithParam<Resolver> {
 protected:
  void SetUp() override {
    if (GetParam() == Resolver::kKernel && !kernel_resolver_available())
      GTEST_SKIP() << "no openat2 here";
    dir = UniqueFd(::open(tree.mount.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir);
  }
  // 0 when `path` opens (the fd is closed again), else the errno.
  int open(std::string_view path, int flags = O_RDONLY, bool follow = true) {
    const int fd = open_beneath(dir.get(), path, flags, 0644, follow, GetParam());
    if (fd < 0) return -fd;
    ::close(fd);
    return 0;
  }
  std::string read(std::string_view path) {
    UniqueFd fd(open_beneath(dir.get(), path, O_RDONLY, 0, true, GetParam()));
    if (!fd) return "<error>";
    char buf[64];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
  }
  Tree tree;
  UniqueFd dir;
};

TEST_P(Resolve, PathsInsideTheMountOpen) {
  EXPECT_EQ(read("a.txt"), "hello file");
  EXPECT_EQ(read("./sub/../a.txt"), "hello file");
  EXPECT_EQ(read("inside"), "hello file");
  EXPECT_EQ(read("sub/up_inside"), "hello file");
  EXPECT_EQ(read("sub//deeper/../../a.txt"), "hello file");
  EXPECT_EQ(open("sub", O_RDONLY | O_DIRECTORY), 0);
  EXPECT_EQ(open("."), 0);
  EXPECT_EQ(open("sub/.."), 0);
}

TEST_P(Resolve, EveryWayOutIsEperm) {
  for (const char* path :
       {"..", "../outside/secret.txt", "sub/../../outside/secret.txt", "/etc/passwd", "/", "escape",
        "outdir/secret.txt", "outdir", "etc/passwd", "etc", "sub/deeper/upup/secret.txt",
        "dotdot/outside/secret.txt", "sub/deeper/../../..", "sub/deeper/../../../mount/a.txt"}) {
    EXPECT_EQ(open(path), EPERM) << path;
    EXPECT_EQ(open(path, O_PATH), EPERM) << path;
  }
  // Creating through a dangling symlink that points out, and creating with `..`.
  EXPECT_EQ(open("new_out", O_WRONLY | O_CREAT), EPERM);
  EXPECT_EQ(open("../outside/created.txt", O_WRONLY | O_CREAT), EPERM);
  EXPECT_FALSE(fs::exists(tree.outside / "created.txt"));
}

TEST_P(Resolve, SymlinksAndErrors) {
  EXPECT_EQ(open("inside", O_RDONLY, /*follow=*/false), ELOOP);
  EXPECT_EQ(open("inside", O_PATH, /*follow=*/false), 0);  // the link itself
  EXPECT_EQ(open("escape", O_PATH, /*follow=*/false), 0);  // the link itself, not its target
  EXPECT_EQ(open("loop"), ELOOP);
  EXPECT_EQ(open("missing"), ENOENT);
  EXPECT_EQ(open(""), ENOENT);
  EXPECT_EQ(open("a.txt/"), ENOTDIR);
  EXPECT_EQ(open("a.txt/x"), ENOTDIR);
  EXPECT_EQ(open(std::string_view("a\0b", 3)), EINVAL);
  EXPECT_EQ(open("inside", O_WRONLY | O_CREAT | O_EXCL), EEXIST);
  EXPECT_EQ(open("sub/new.txt", O_WRONLY | O_CREAT | O_EXCL), 0);
  EXPECT_TRUE(fs::exists(tree.mount / "sub" / "new.txt"));
}

TEST_P(Resolve, ParentAndName) {
  ParentAndName p;
  EXPECT_EQ(open_parent(dir.get(), "sub/deeper/x", p, GetParam()), 0);
  EXPECT_EQ(p.name, "x");
  EXPECT_EQ(file_id(p.parent.get()),
            file_id(UniqueFd(::open((tree.mount / "sub/deeper").c_str(), O_PATH)).get()));
  ParentAndName q;
  EXPECT_EQ(open_parent(dir.get(), "sub/", q, GetParam()), 0);
  EXPECT_EQ(q.name, "sub");
  EXPECT_TRUE(q.trailing_slash);
  for (const char* path :
       {"../x", "/x", "..", "escape/x", "outdir/x", "sub/deeper/upup/x", "sub/../.."}) {
    ParentAndName r;
    EXPECT_EQ(open_parent(dir.get(), path, r, GetParam()), -EPERM) << path;
  }
  ParentAndName s, t;
  EXPECT_EQ(open_parent(dir.get(), "sub/..", s, GetParam()), -EINVAL);
  EXPECT_EQ(open_parent(dir.get(), "", t, GetParam()), -ENOENT);
}

INSTANTIATE_TEST_SUITE_P(Wasi, Resolve, ::testing::Values(Resolver::kKernel, Resolver::kWalk),
                         [](const auto& info) {
                           return info.param == Resolver::kKernel ? "Openat2" : "Walk";
                         });

TEST(WasiSymlinkTarget, StaysBeneathTheMount) {
  Tree tree;
  UniqueFd root(::open(tree.mount.c_str(), O_RDONLY | O_DIRECTORY));
  UniqueFd sub(::open((tree.mount / "sub").c_str(), O_RDONLY | O_DIRECTORY));
  const FileId id = file_id(root.get());
  EXPECT_TRUE(symlink_target_stays_beneath(id, root.get(), "a.txt"));
  EXPECT_TRUE(symlink_target_stays_beneath(id, root.get(), "sub/../a.txt"));
  EXPECT_TRUE(symlink_target_stays_beneath(id, sub.get(), "../a.txt"));
  EXPECT_FALSE(symlink_target_stays_beneath(id, root.get(), "../outside"));
  EXPECT_FALSE(symlink_target_stays_beneath(id, root.get(), "/etc"));
  EXPECT_FALSE(symlink_target_stays_beneath(id, root.get(), ""));
  EXPECT_FALSE(symlink_target_stays_beneath(id, sub.get(), "../../outside"));
  EXPECT_FALSE(symlink_target_stays_beneath(id, sub.get(), "deeper/../../../x"));
}

// ---- the ABI, called directly ------------------------------------------------------------

constexpr uint64_t kRead = 1 << 1, kSeek = 1 << 2, kWrite = 1 << 6, kReaddir = 1 << 14;
constexpr uint32_t kCreat = 1, kDirectoryFlag = 2, kExcl = 4, kTrunc = 8;
constexpr uint32_t kPathAt = 1024, kResultAt = 2048, kBufAt = 4096;  // scratch areas in the guest
constexpr uint32_t kPastEnd = 65536 - 2;  // 2 bytes before the end of memory

// tests/testdata/wasi/abi.wat, instantiated with define_wasi(config): fd 3 is `tree.mount` as
// "/data", fd 4 the same directory as read-only "/ro".
struct Abi {
  explicit Abi(const Tree& tree, std::function<void(WasiConfig&)> adjust = {}) : store(engine) {
    auto config = std::make_shared<WasiConfig>();
    config->mounts.push_back({tree.mount.string(), "/data", false});
    config->mounts.push_back({tree.mount.string(), "/ro", true});
    config->write_stdout = [this](std::string_view s) { out += s; };
    if (adjust) adjust(*config);
    define_wasi(linker, config);
    auto compiled = CompiledModule::compile(
        engine, read_bytes(std::string(WARDEN_TEST_DATA) + "/wasi/abi.wasm"));
    EXPECT_TRUE(compiled);
    auto inst = store.instantiate(*compiled, linker);
    EXPECT_TRUE(inst) << inst.error().message();
    instance = *inst;
  }
  // Calls the export `f` (the WASI function of that name) and returns its errno.
  template <typename... Args>
  uint32_t call(std::string_view f, Args... args) {
    std::vector<Value> values{to_value(args)...};
    auto r = store.call(*instance, f, values);
    EXPECT_TRUE(r) << f << ": " << r.error().message();
    return r ? static_cast<uint32_t>((*r)[0].as_i32()) : ~0u;
  }
  static Value to_value(int v) { return Value::i32(v); }
  static Value to_value(uint32_t v) { return Value::i32(static_cast<int32_t>(v)); }
  static Value to_value(uint64_t v) { return Value::i64(static_cast<int64_t>(v)); }
  static Value to_value(int64_t v) { return Value::i64(v); }

  uint8_t* mem() { return instance->memory0()->data(); }
  uint32_t put(uint32_t at, std::string_view s) {
    std::memcpy(mem() + at, s.data(), s.size());
    return static_cast<uint32_t>(s.size());
  }
  uint32_t u32(uint32_t at) {
    uint32_t v;
    std::memcpy(&v, mem() + at, 4);
    return v;
  }
  uint64_t u64(uint32_t at) {
    uint64_t v;
    std::memcpy(&v, mem() + at, 8);
    return v;
  }
  void set32(uint32_t at, uint32_t v) { std::memcpy(mem() + at, &v, 4); }
  void set64(uint32_t at, uint64_t v) { std::memcpy(mem() + at, &v, 8); }

  // path_open beneath `dir`; returns the errno, and the new fd in `fd`.
  uint32_t open(uint32_t dir, std::string_view path, uint32_t& fd, uint64_t rights = kRead | kSeek,
                uint32_t oflags = 0, uint32_t fdflags = 0, uint32_t lookup = 1) {
    const uint32_t len = put(kPathAt, path);
    fd = ~0u;
    const uint32_t e = call("path_open", dir, lookup, kPathAt, len, oflags, rights, uint64_t{0},
                            fdflags, kResultAt);
    if (e == 0) fd = u32(kResultAt);
    return e;
  }
  uint32_t open_errno(uint32_t dir, std::string_view path, uint64_t rights = kRead,
                      uint32_t oflags = 0, uint32_t lookup = 1) {
    uint32_t fd;
    const uint32_t e = open(dir, path, fd, rights, oflags, 0, lookup);
    if (e == 0) call("fd_close", fd);
    return e;
  }
  // One iovec at kBufAt + 256 pointing at kBufAt.
  uint32_t read(uint32_t fd, std::string& out, uint32_t max = 200) {
    set32(kBufAt + 256, kBufAt);
    set32(kBufAt + 260, max);
    const uint32_t e = call("fd_read", fd, kBufAt + 256, 1, kResultAt);
    out = e ? "" : std::string(reinterpret_cast<char*>(mem() + kBufAt), u32(kResultAt));
    return e;
  }
  uint32_t write(uint32_t fd, std::string_view data) {
    put(kBufAt, data);
    set32(kBufAt + 256, kBufAt);
    set32(kBufAt + 260, static_cast<uint32_t>(data.size()));
    return call("fd_write", fd, kBufAt + 256, 1, kResultAt);
  }
  // A path_* function taking (fd, path, len).
  uint32_t at(std::string_view f, uint32_t dir, std::string_view path) {
    return call(f, dir, kPathAt, put(kPathAt, path));
  }
  // path_filestat_get's filetype and size.
  uint32_t stat(uint32_t dir, std::string_view path, uint8_t& type, uint64_t& size,
                uint32_t lookup = 1) {
    const uint32_t e = call("path_filestat_get", dir, lookup, kPathAt, put(kPathAt, path), kBufAt);
    type = mem()[kBufAt + 16];
    size = u64(kBufAt + 32);
    return e;
  }

  static inline Engine engine{EngineConfig{}};
  Linker linker;
  Store store;
  Instance* instance = nullptr;
  std::string out;
};

// Every ABI and wasi-libc test runs with each resolver (kAuto: openat2 where the kernel has it).
class WithResolver : public ::testing::TestWithParam<Resolver> {
 protected:
  void SetUp() override {
    if (GetParam() == Resolver::kKernel && !kernel_resolver_available())
      GTEST_SKIP() << "no openat2 here";
    set_auto_resolver(GetParam());
  }
  void TearDown() override { set_auto_resolver(Resolver::kAuto); }
  Tree tree;
};
std::string resolver_name(const ::testing::TestParamInfo<Resolver>& info) {
  return info.param == Resolver::kKernel ? "Openat2" : "Walk";
}

using WasiAbi = WithResolver;

TEST_P(WasiAbi, PreopensAreNamed) {
  Abi g(tree);
  EXPECT_EQ(g.call("fd_prestat_get", 3, kResultAt), 0u);
  EXPECT_EQ(g.mem()[kResultAt], 0);  // tag: directory
  EXPECT_EQ(g.u32(kResultAt + 4), 5u);
  EXPECT_EQ(g.call("fd_prestat_dir_name", 3, kBufAt, 5), 0u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(g.mem() + kBufAt), 5), "/data");
  EXPECT_EQ(g.call("fd_prestat_get", 4, kResultAt), 0u);
  EXPECT_EQ(g.u32(kResultAt + 4), 3u);                    // "/ro"
  EXPECT_EQ(g.call("fd_prestat_get", 5, kResultAt), 8u);  // EBADF: the end of the preopens
  EXPECT_EQ(g.call("fd_prestat_get", 1, kResultAt), 8u);
  EXPECT_EQ(g.call("fd_prestat_dir_name", 3, kBufAt, 4), 37u);  // ENAMETOOLONG
}

TEST_P(WasiAbi, ReadsWritesSeeksAndStats) {
  Abi g(tree);
  uint32_t fd;
  ASSERT_EQ(g.open(3, "a.txt", fd), 0u);
  EXPECT_EQ(fd, 5u);
  std::string text;
  EXPECT_EQ(g.read(fd, text), 0u);
  EXPECT_EQ(text, "hello file");
  EXPECT_EQ(g.read(fd, text), 0u);
  EXPECT_EQ(text, "");              // end of file
  EXPECT_EQ(g.write(fd, "x"), 8u);  // EBADF: opened without the fd_write right
  EXPECT_EQ(g.call("fd_seek", fd, int64_t{6}, 0, kResultAt), 0u);
  EXPECT_EQ(g.u64(kResultAt), 6u);
  EXPECT_EQ(g.read(fd, text), 0u);
  EXPECT_EQ(text, "file");
  EXPECT_EQ(g.call("fd_tell", fd, kResultAt), 0u);
  EXPECT_EQ(g.u64(kResultAt), 10u);
  EXPECT_EQ(g.call("fd_seek", fd, int64_t{0}, 3, kResultAt), 28u);  // bad whence: EINVAL
  // filestat: filetype u8 @16, size u64 @32.
  EXPECT_EQ(g.call("fd_filestat_get", fd, kBufAt), 0u);
  EXPECT_EQ(g.mem()[kBufAt + 16], 4);
  EXPECT_EQ(g.u64(kBufAt + 32), 10u);
  EXPECT_EQ(g.u64(kBufAt + 24), 1u);  // nlink
  struct stat st {};
  ASSERT_EQ(::stat((tree.mount / "a.txt").c_str(), &st), 0);
  EXPECT_EQ(g.u64(kBufAt + 8), st.st_ino);
  EXPECT_EQ(g.u64(kBufAt + 48),
            uint64_t(st.st_mtim.tv_sec) * 1'000'000'000u + uint64_t(st.st_mtim.tv_nsec));
  // fdstat: filetype u8 @0, flags u16 @2, rights_base u64 @8.
  EXPECT_EQ(g.call("fd_fdstat_get", fd, kBufAt), 0u);
  EXPECT_EQ(g.mem()[kBufAt], 4);
  EXPECT_TRUE(g.u64(kBufAt + 8) & kRead);
  EXPECT_FALSE(g.u64(kBufAt + 8) & kWrite);
  EXPECT_EQ(g.call("fd_close", fd), 0u);
  EXPECT_EQ(g.call("fd_close", fd), 8u);

  // Create, write, read back through a second descriptor; truncate; append.
  ASSERT_EQ(g.open(3, "sub/new.txt", fd, kRead | kWrite | kSeek, kCreat | kTrunc), 0u);
  EXPECT_EQ(g.write(fd, "written here"), 0u);
  EXPECT_EQ(g.u32(kResultAt), 12u);
  EXPECT_EQ(slurp(tree.mount / "sub" / "new.txt"), "written here");
  EXPECT_EQ(g.call("fd_filestat_set_size", fd, uint64_t{7}), 0u);
  EXPECT_EQ(slurp(tree.mount / "sub" / "new.txt"), "written");
  g.put(kBufAt, "W");
  g.set32(kBufAt + 256, kBufAt);
  g.set32(kBufAt + 260, 1);
  EXPECT_EQ(g.call("fd_pwrite", fd, kBufAt + 256, 1, uint64_t{0}, kResultAt), 0u);
  EXPECT_EQ(g.call("fd_pread", fd, kBufAt + 256, 1, uint64_t{1}, kResultAt), 0u);
  EXPECT_EQ(g.mem()[kBufAt], 'r');
  EXPECT_EQ(slurp(tree.mount / "sub" / "new.txt"), "Written");
  uint32_t fd2;
  ASSERT_EQ(g.open(3, "sub/new.txt", fd2, kWrite, 0, /*append*/ 1), 0u);
  EXPECT_EQ(g.write(fd2, "!"), 0u);
  EXPECT_EQ(g.call("fd_fdstat_get", fd2, kBufAt), 0u);
  EXPECT_EQ(g.u32(kBufAt) >> 16, 1u);  // fs_flags: append
  EXPECT_EQ(slurp(tree.mount / "sub" / "new.txt"), "Written!");
  EXPECT_EQ(g.call("fd_sync", fd2), 0u);
  EXPECT_EQ(g.call("fd_datasync", fd2), 0u);
  EXPECT_EQ(g.call("fd_renumber", fd2, fd), 0u);  // fd now is the append descriptor
  EXPECT_EQ(g.call("fd_close", fd2), 8u);
  EXPECT_EQ(g.write(fd, "?"), 0u);
  EXPECT_EQ(slurp(tree.mount / "sub" / "new.txt"), "Written!?");
  EXPECT_EQ(g.call("fd_renumber", 3, fd), 58u);  // preopens stay: ENOTSUP
  EXPECT_EQ(g.call("fd_close", 3), 58u);
  // O_EXCL on an existing file; O_DIRECTORY on a file.
  EXPECT_EQ(g.open_errno(3, "sub/new.txt", kWrite, kCreat | kExcl), 20u);  // EEXIST
  EXPECT_EQ(g.open_errno(3, "a.txt", kRead, kDirectoryFlag), 54u);         // ENOTDIR
}

TEST_P(WasiAbi, ReaddirListsAndResumes) {
  Abi g(tree);
  uint32_t dir;
  ASSERT_EQ(g.open(3, "sub", dir, kReaddir, kDirectoryFlag), 0u);
  // Everything in one call: ".", "..", "deeper", "up_inside", sorted.
  auto decode = [&](uint32_t used, std::vector<std::string>& names, uint64_t& last_cookie) {
    for (uint32_t at = 0; at + 24 <= used;) {
      const uint32_t namelen = g.u32(kBufAt + at + 16);
      if (at + 24 + namelen > used) break;  // cut: fetch again from last_cookie
      names.emplace_back(reinterpret_cast<char*>(g.mem() + kBufAt + at + 24), namelen);
      last_cookie = g.u64(kBufAt + at);
      at += 24 + namelen;
    }
  };
  EXPECT_EQ(g.call("fd_readdir", dir, kBufAt, 1000, uint64_t{0}, kResultAt), 0u);
  std::vector<std::string> names;
  uint64_t cookie = 0;
  decode(g.u32(kResultAt), names, cookie);
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "deeper", "up_inside"}));
  // Types: "deeper" is a directory (3), "up_inside" a symlink (7).
  const uint32_t used = g.u32(kResultAt);
  EXPECT_EQ(used, 4 * 24 + 1 + 2 + 6 + 9);
  EXPECT_EQ(g.mem()[kBufAt + 24 + 1 + 24 + 2 + 20], 3);
  EXPECT_EQ(g.mem()[kBufAt + 24 + 1 + 24 + 2 + 24 + 6 + 20], 7);
  // With a 30-byte buffer: one entry and a cut record each time, resumed by cookie.
  for (int i = 0; i < 20; ++i) std::ofstream(tree.mount / "sub" / ("file" + std::to_string(i)));
  names.clear();
  cookie = 0;
  for (int calls = 0; calls < 100; ++calls) {
    ASSERT_EQ(g.call("fd_readdir", dir, kBufAt, 40, cookie, kResultAt), 0u);
    const uint32_t n = g.u32(kResultAt);
    decode(n, names, cookie);
    if (n < 40) break;
  }
  EXPECT_EQ(names.size(), 24u);
  EXPECT_EQ(names.back(), "up_inside");
  EXPECT_EQ(g.call("fd_readdir", dir, kBufAt, 1000, uint64_t{1000}, kResultAt),
            0u);  // past the end
  EXPECT_EQ(g.u32(kResultAt), 0u);
  uint32_t file;
  ASSERT_EQ(g.open(3, "a.txt", file), 0u);
  EXPECT_EQ(g.call("fd_readdir", file, kBufAt, 100, uint64_t{0}, kResultAt), 54u);  // ENOTDIR
  std::string text;
  EXPECT_EQ(g.read(dir, text), 31u);  // EISDIR
}

TEST_P(WasiAbi, EscapesAreEperm) {
  Abi g(tree);
  for (uint32_t mount : {3u, 4u}) {
    for (const char* path : {"../outside/secret.txt", "/etc/passwd", "sub/../../outside/secret.txt",
                             "escape", "outdir/secret.txt", "etc/passwd",
                             "sub/deeper/upup/secret.txt", "dotdot/outside/secret.txt", ".."}) {
      EXPECT_EQ(g.open_errno(mount, path), 63u) << path;
      uint8_t type;
      uint64_t size;
      EXPECT_EQ(g.stat(mount, path, type, size), 63u) << path;
    }
  }
  EXPECT_EQ(g.open_errno(3, "new_out", kWrite, kCreat), 63u);
  EXPECT_FALSE(fs::exists(tree.outside / "created.txt"));
  EXPECT_EQ(g.at("path_create_directory", 3, "../made"), 63u);
  EXPECT_EQ(g.at("path_create_directory", 3, "outdir/made"), 63u);
  EXPECT_EQ(g.at("path_unlink_file", 3, "outdir/secret.txt"), 63u);
  EXPECT_EQ(g.at("path_unlink_file", 3, "../outside/secret.txt"), 63u);
  EXPECT_EQ(g.at("path_remove_directory", 3, ".."), 63u);
  EXPECT_TRUE(fs::exists(tree.outside / "secret.txt"));
  EXPECT_FALSE(fs::exists(tree.root / "made"));
  // Rename into or out of the mount.
  g.put(kPathAt + 100, "../stolen");
  EXPECT_EQ(g.call("path_rename", 3, kPathAt, g.put(kPathAt, "a.txt"), 3, kPathAt + 100, 9), 63u);
  g.put(kPathAt + 100, "mine");
  EXPECT_EQ(g.call("path_rename", 3, kPathAt, g.put(kPathAt, "escape/.."), 3, kPathAt + 100, 4),
            63u);
  EXPECT_EQ(
      g.call("path_rename", 3, kPathAt, g.put(kPathAt, "outdir/secret.txt"), 3, kPathAt + 100, 4),
      63u);
  EXPECT_TRUE(fs::exists(tree.mount / "a.txt"));
  EXPECT_EQ(slurp(tree.outside / "secret.txt"), "secret");
  // Following or not, the final symlink to outside is never read through.
  EXPECT_EQ(g.open_errno(3, "escape", kRead, 0, /*lookup=*/0), 32u);  // ELOOP: not followed
  uint8_t type;
  uint64_t size;
  EXPECT_EQ(g.stat(3, "escape", type, size, /*lookup=*/0), 0u);  // the link itself
  EXPECT_EQ(type, 7);
  // A symlink inside is fine.
  EXPECT_EQ(g.stat(3, "sub/up_inside", type, size), 0u);
  EXPECT_EQ(type, 4);
  EXPECT_EQ(size, 10u);
}

TEST_P(WasiAbi, DirectoryChangesAndSymlinks) {
  Abi g(tree);
  EXPECT_EQ(g.at("path_create_directory", 3, "made"), 0u);
  EXPECT_TRUE(fs::is_directory(tree.mount / "made"));
  EXPECT_EQ(g.at("path_create_directory", 3, "made"), 20u);  // EEXIST
  g.put(kPathAt + 100, "made/b.txt");
  EXPECT_EQ(g.call("path_rename", 3, kPathAt, g.put(kPathAt, "a.txt"), 3, kPathAt + 100, 10), 0u);
  EXPECT_EQ(slurp(tree.mount / "made" / "b.txt"), "hello file");
  EXPECT_EQ(g.at("path_remove_directory", 3, "made"), 55u);    // ENOTEMPTY
  EXPECT_EQ(g.at("path_unlink_file", 3, "made"), 31u);         // EISDIR
  EXPECT_EQ(g.at("path_unlink_file", 3, "made/b.txt/"), 54u);  // ENOTDIR
  EXPECT_EQ(g.at("path_unlink_file", 3, "made/b.txt"), 0u);
  EXPECT_EQ(g.at("path_remove_directory", 3, "made"), 0u);
  EXPECT_FALSE(fs::exists(tree.mount / "made"));
  // Symlinks: targets inside are made; absolute ones or ones climbing out are refused.
  auto symlink = [&](std::string_view target, std::string_view path) {
    const uint32_t tlen = g.put(kPathAt + 200, target);
    return g.call("path_symlink", kPathAt + 200, tlen, 3, kPathAt, g.put(kPathAt, path));
  };
  EXPECT_EQ(symlink("../a.txt", "sub/link"), 0u);
  EXPECT_EQ(g.open_errno(3, "sub/link"), 44u);  // a.txt was moved away: ENOENT, not an escape
  EXPECT_EQ(symlink("/etc/passwd", "abs"), 63u);
  EXPECT_EQ(symlink("../outside", "out"), 63u);
  EXPECT_EQ(symlink("../../outside", "sub/out"), 63u);
  EXPECT_EQ(symlink("deeper/../../../x", "sub/out"), 63u);
  EXPECT_FALSE(fs::is_symlink(tree.mount / "abs"));
  EXPECT_FALSE(fs::is_symlink(tree.mount / "out"));
  // readlink: the target, cut to the buffer.
  EXPECT_EQ(g.call("path_readlink", 3, kPathAt, g.put(kPathAt, "sub/link"), kBufAt, 100, kResultAt),
            0u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(g.mem() + kBufAt), g.u32(kResultAt)), "../a.txt");
  EXPECT_EQ(g.call("path_readlink", 3, kPathAt, g.put(kPathAt, "sub/link"), kBufAt, 3, kResultAt),
            0u);
  EXPECT_EQ(g.u32(kResultAt), 3u);
  EXPECT_EQ(g.call("path_readlink", 3, kPathAt, g.put(kPathAt, "sub"), kBufAt, 100, kResultAt),
            28u);  // EINVAL
  // Hard links stay inside, and never follow.
  std::ofstream(tree.mount / "h.txt") << "h";
  g.put(kPathAt + 100, "sub/h2.txt");
  EXPECT_EQ(g.call("path_link", 3, 0, kPathAt, g.put(kPathAt, "h.txt"), 3, kPathAt + 100, 10), 0u);
  EXPECT_EQ(slurp(tree.mount / "sub" / "h2.txt"), "h");
  g.put(kPathAt + 100, "ln");
  EXPECT_EQ(
      g.call("path_link", 3, 0, kPathAt, g.put(kPathAt, "outdir/secret.txt"), 3, kPathAt + 100, 2),
      63u);
}

// A relative symlink that is inside where it was made can point out once it, or a directory
// above it, moves to a shallower place; or once it is hard-linked there. None of that is allowed.
TEST_P(WasiAbi, NoRenameOrLinkLeavesASymlinkPointingOut) {
  Abi g(tree);
  auto symlink = [&](std::string_view target, std::string_view path) {
    const uint32_t tlen = g.put(kPathAt + 200, target);
    return g.call("path_symlink", kPathAt + 200, tlen, 3, kPathAt, g.put(kPathAt, path));
  };
  auto two_paths = [&](std::string_view f, std::string_view from, std::string_view to) {
    const uint32_t tlen = g.put(kPathAt + 100, to);
    if (f == "path_link")
      return g.call(f, 3, 0, kPathAt, g.put(kPathAt, from), 3, kPathAt + 100, tlen);
    return g.call(f, 3, kPathAt, g.put(kPathAt, from), 3, kPathAt + 100, tlen);
  };
  // The host's own escaping link (sub/deeper/upup) is removed first: the checks below are about
  // links the plugin makes inside.
  EXPECT_EQ(g.at("path_unlink_file", 3, "sub/deeper/upup"), 0u);
  EXPECT_EQ(symlink("../../a.txt", "sub/deeper/l"), 0u);          // mount/a.txt: inside
  EXPECT_EQ(two_paths("path_rename", "sub/deeper/l", "l"), 63u);  // would point 2 levels up
  EXPECT_EQ(two_paths("path_rename", "sub/deeper/l", "sub/l"), 63u);
  EXPECT_EQ(two_paths("path_link", "sub/deeper/l", "l2"), 63u);  // a second name, shallower
  EXPECT_EQ(two_paths("path_rename", "sub/deeper", "d2"), 63u);  // its directory, shallower
  EXPECT_TRUE(fs::is_symlink(tree.mount / "sub" / "deeper" / "l"));
  EXPECT_FALSE(fs::exists(tree.mount / "d2"));
  EXPECT_FALSE(fs::is_symlink(tree.mount / "l") || fs::is_symlink(tree.mount / "l2"));
  // Moves that keep every link beneath are fine: the same depth, or deeper.
  EXPECT_EQ(g.at("path_create_directory", 3, "x"), 0u);
  EXPECT_EQ(g.at("path_create_directory", 3, "x/y"), 0u);
  EXPECT_EQ(two_paths("path_rename", "sub/deeper/l", "x/y/l"), 0u);
  EXPECT_EQ(two_paths("path_link", "x/y/l", "x/y/l2"), 0u);
  EXPECT_EQ(two_paths("path_rename", "sub", "sub2"), 0u);
  EXPECT_EQ(two_paths("path_rename", "x", "sub2/x"), 0u);  // deeper: still beneath
  // After all this, the links the plugin made still point beneath the mount (one level deeper now,
  // so at sub2/a.txt, which does not exist: dangling is fine, outside is not).
  for (const char* name : {"l", "l2"}) {
    const fs::path link = tree.mount / "sub2" / "x" / "y" / name;
    EXPECT_EQ((link.parent_path() / fs::read_symlink(link)).lexically_normal(),
              (tree.mount / "sub2" / "a.txt").lexically_normal());
  }
}

// procfs and sysfs beneath a mount (here a read-only mount of "/") are refused: the host's
// /proc/self/mem and environment are not the plugin's to read. A mount of /proc is left out.
TEST_P(WasiAbi, ProcfsAndSysfsBeneathAMountAreRefused) {
  Abi g(tree, [](WasiConfig& c) {
    c.mounts.clear();
    c.mounts.push_back({"/", "/host", true});
    c.mounts.push_back({"/proc", "/proc", true});
  });
  for (const char* path : {"proc/self/mem", "proc/self/environ", "proc", "proc/self", "sys/kernel",
                           "sys", "etc/../proc/self/status"})
    EXPECT_EQ(g.open_errno(3, path), 63u) << path;
  uint8_t type = 0;
  uint64_t size = 0;
  EXPECT_EQ(g.stat(3, "proc/self/environ", type, size), 63u);
  EXPECT_EQ(g.open_errno(3, "etc", kRead | kReaddir, kDirectoryFlag), 0u);  // other files are fine
  EXPECT_EQ(g.open_errno(4, "self/mem"), 8u);  // EBADF: the /proc mount was not made
}

TEST_P(WasiAbi, ReadOnlyMountRefusesEveryChange) {
  Abi g(tree);
  uint32_t fd;
  ASSERT_EQ(g.open(4, "a.txt", fd), 0u);
  std::string text;
  EXPECT_EQ(g.read(fd, text), 0u);
  EXPECT_EQ(text, "hello file");
  EXPECT_EQ(g.write(fd, "x"), 8u);                                 // EBADF
  EXPECT_EQ(g.call("fd_filestat_set_size", fd, uint64_t{0}), 8u);  // EBADF
  EXPECT_EQ(g.call("fd_filestat_set_times", fd, uint64_t{0}, uint64_t{0}, 2), 63u);
  EXPECT_EQ(g.open_errno(4, "a.txt", kRead | kWrite), 63u);
  EXPECT_EQ(g.open_errno(4, "a.txt", kRead, kTrunc), 63u);
  EXPECT_EQ(g.open_errno(4, "b.txt", kWrite, kCreat), 63u);
  EXPECT_EQ(g.at("path_create_directory", 4, "d"), 63u);
  EXPECT_EQ(g.at("path_unlink_file", 4, "a.txt"), 63u);
  EXPECT_EQ(g.at("path_remove_directory", 4, "sub/deeper"), 63u);
  g.put(kPathAt + 100, "moved");
  EXPECT_EQ(g.call("path_rename", 4, kPathAt, g.put(kPathAt, "a.txt"), 3, kPathAt + 100, 5), 63u);
  EXPECT_EQ(g.call("path_rename", 3, kPathAt, g.put(kPathAt, "a.txt"), 4, kPathAt + 100, 5), 63u);
  g.put(kPathAt + 200, "a.txt");
  EXPECT_EQ(g.call("path_symlink", kPathAt + 200, 5, 4, kPathAt, g.put(kPathAt, "l")), 63u);
  EXPECT_EQ(g.call("path_link", 4, 0, kPathAt + 200, 5, 3, kPathAt, g.put(kPathAt, "l")), 63u);
  // A directory opened beneath the read-only mount is read-only too.
  uint32_t dir;
  ASSERT_EQ(g.open(4, "sub", dir, kReaddir, kDirectoryFlag), 0u);
  EXPECT_EQ(g.open_errno(dir, "x", kWrite, kCreat), 63u);
  EXPECT_EQ(g.at("path_create_directory", dir, "d"), 63u);
  EXPECT_EQ(slurp(tree.mount / "a.txt"), "hello file");
  EXPECT_FALSE(fs::exists(tree.mount / "b.txt"));
  EXPECT_FALSE(fs::exists(tree.mount / "d"));
  EXPECT_FALSE(fs::exists(tree.mount / "moved"));
  // Through the writable mount of the same directory it all works.
  EXPECT_EQ(g.open_errno(3, "b.txt", kWrite, kCreat), 0u);
}

// Go's wasip1 runtime opens read-only with every file right but FD_WRITE, FD_DATASYNC,
// FD_ALLOCATE and PATH_FILESTAT_SET_SIZE (FD_FILESTAT_SET_SIZE stays), and without O_DIRECTORY
// for directories: on a read-only mount that must read, not fail with EPERM.
TEST_P(WasiAbi, GoStyleReadOnlyOpensReadOnAReadOnlyMount) {
  constexpr uint64_t kAllRights = (uint64_t{1} << 29) - 1;
  constexpr uint64_t kGoReadOnly =
      kAllRights & ~(uint64_t{1} << 6 | uint64_t{1} << 0 | uint64_t{1} << 8 | uint64_t{1} << 19);
  Abi g(tree);
  uint32_t fd;
  ASSERT_EQ(g.open(4, "a.txt", fd, kGoReadOnly), 0u);
  std::string text;
  EXPECT_EQ(g.read(fd, text), 0u);
  EXPECT_EQ(text, "hello file");
  EXPECT_EQ(g.write(fd, "x"), 8u);  // EBADF: still not writable
  uint32_t dir;
  ASSERT_EQ(g.open(4, "sub", dir, kGoReadOnly), 0u);
  EXPECT_EQ(g.call("fd_readdir", dir, kBufAt, 200, uint64_t{0}, kResultAt), 0u);
  EXPECT_GT(g.u32(kResultAt), 0u);
  EXPECT_EQ(slurp(tree.mount / "a.txt"), "hello file");
}

// A guest path is copied out of memory only up to PATH_MAX: a 60 KB "name" is ENAMETOOLONG,
// not a 60 KB (or, with a bigger memory, 4 GiB) host allocation.
TEST_P(WasiAbi, PathsLongerThanPathMaxAreNametoolong) {
  Abi g(tree);
  const std::string long_name(5000, 'a');
  EXPECT_EQ(g.open_errno(3, long_name), 37u);
  EXPECT_EQ(g.at("path_create_directory", 3, long_name), 37u);
  EXPECT_EQ(g.call("path_open", 3, 1, 0, 60000, 0, uint64_t{kRead}, uint64_t{0}, 0, kResultAt),
            37u);
  EXPECT_EQ(g.open_errno(3, "a.txt"), 0u);
}

TEST_P(WasiAbi, BadPointersAreEfault) {
  Abi g(tree);
  uint32_t fd;
  ASSERT_EQ(g.open(3, "a.txt", fd), 0u);
  // Paths and result pointers past the end, or wrapping around.
  EXPECT_EQ(g.call("path_open", 3, 1, kPastEnd, 100, 0, kRead, uint64_t{0}, 0, kResultAt), 21u);
  EXPECT_EQ(g.call("path_open", 3, 1, 0xffffffffu, 2, 0, kRead, uint64_t{0}, 0, kResultAt), 21u);
  EXPECT_EQ(g.call("path_open", 3, 1, kPathAt, g.put(kPathAt, "a.txt"), 0, kRead, uint64_t{0}, 0,
                   kPastEnd),
            21u);
  EXPECT_EQ(g.call("path_open", 3, 1, kPathAt, g.put(kPathAt, "a.txt"), 0, kRead, uint64_t{0}, 0,
                   0xfffffffdu),
            21u);
  uint32_t next;
  ASSERT_EQ(g.open(3, "a.txt", next), 0u);
  EXPECT_EQ(next, fd + 1);  // nothing leaked by the refused opens
  // iovec arrays and buffers.
  EXPECT_EQ(g.call("fd_read", fd, kPastEnd, 1, kResultAt), 21u);
  EXPECT_EQ(g.call("fd_read", fd, 0, 0x20000000, kResultAt), 21u);  // 4 GiB of iovecs
  g.set32(kBufAt + 256, kPastEnd);
  g.set32(kBufAt + 260, 100);
  EXPECT_EQ(g.call("fd_read", fd, kBufAt + 256, 1, kResultAt), 21u);
  g.set32(kBufAt + 256, 0xfffffff0u);
  g.set32(kBufAt + 260, 0x20);  // wraps in 32 bits
  EXPECT_EQ(g.call("fd_read", fd, kBufAt + 256, 1, kResultAt), 21u);
  EXPECT_EQ(g.call("fd_write", 1, kBufAt + 256, 1, kResultAt), 21u);
  g.set32(kBufAt + 256, kBufAt);
  g.set32(kBufAt + 260, 4);
  EXPECT_EQ(g.call("fd_read", fd, kBufAt + 256, 1, kPastEnd), 21u);
  EXPECT_EQ(g.call("fd_pread", fd, kBufAt + 256, 1, uint64_t{0}, kPastEnd), 21u);
  EXPECT_EQ(g.call("fd_filestat_get", fd, kPastEnd), 21u);
  EXPECT_EQ(g.call("fd_fdstat_get", fd, kPastEnd), 21u);
  EXPECT_EQ(g.call("fd_seek", fd, int64_t{0}, 0, kPastEnd), 21u);
  EXPECT_EQ(g.call("fd_tell", fd, kPastEnd), 21u);
  EXPECT_EQ(g.call("fd_prestat_get", 3, kPastEnd), 21u);
  EXPECT_EQ(g.call("fd_prestat_dir_name", 3, kPastEnd, 5), 21u);
  EXPECT_EQ(g.call("path_filestat_get", 3, 1, kPathAt, g.put(kPathAt, "a.txt"), kPastEnd), 21u);
  EXPECT_EQ(g.call("path_readlink", 3, kPathAt, g.put(kPathAt, "inside"), kPastEnd, 100, kResultAt),
            21u);
  EXPECT_EQ(g.call("path_create_directory", 3, kPastEnd, 10), 21u);
  EXPECT_EQ(g.call("path_symlink", kPastEnd, 10, 3, kPathAt, 3), 21u);
  uint32_t dir;
  ASSERT_EQ(g.open(3, "sub", dir, kReaddir, kDirectoryFlag), 0u);
  EXPECT_EQ(g.call("fd_readdir", dir, kPastEnd, 100, uint64_t{0}, kResultAt), 21u);
  EXPECT_EQ(g.call("fd_readdir", dir, kBufAt, 100, uint64_t{0}, kPastEnd), 21u);
  EXPECT_EQ(g.call("poll_oneoff", kPastEnd, kBufAt, 1, kResultAt), 21u);
  EXPECT_EQ(g.call("poll_oneoff", kBufAt, kPastEnd, 1, kResultAt), 21u);
  // 100000 subscriptions do not fit in memory: the row's Array(48, 2) role answers EFAULT before
  // the body's own limit (65536, EINVAL) is looked at; none at all is EINVAL.
  EXPECT_EQ(g.call("poll_oneoff", kBufAt, kBufAt + 1024, 100000, kResultAt), 21u);
  EXPECT_EQ(g.call("poll_oneoff", kBufAt, kBufAt + 1024, 0, kResultAt), 28u);
  EXPECT_EQ(g.call("clock_time_get", 1, uint64_t{0}, kPastEnd), 21u);
  EXPECT_EQ(g.call("clock_res_get", 1, kPastEnd), 21u);
  EXPECT_EQ(g.call("args_sizes_get", kPastEnd, kResultAt), 21u);
  // Unknown descriptors.
  EXPECT_EQ(g.call("fd_read", 99, kBufAt + 256, 1, kResultAt), 8u);
  EXPECT_EQ(g.call("fd_close", 99), 8u);
  EXPECT_EQ(g.call("fd_write", 0, kBufAt + 256, 1, kResultAt), 8u);  // stdin cannot be written
  EXPECT_EQ(g.call("fd_read", 1, kBufAt + 256, 1, kResultAt), 8u);   // nor stdout read
  EXPECT_EQ(g.at("path_create_directory", fd, "x"), 54u);  // a file is no directory: ENOTDIR
  // And what has no implementation answers ENOSYS.
  EXPECT_EQ(g.call("sock_accept", 3, 0, kResultAt), 52u);
}

TEST_P(WasiAbi, StdioAndLimits) {
  Abi g(tree, [](WasiConfig& c) {
    c.stdin_data = "from stdin";
    c.max_open_files = 2;
  });
  std::string text;
  EXPECT_EQ(g.read(0, text, 4), 0u);
  EXPECT_EQ(text, "from");
  EXPECT_EQ(g.read(0, text), 0u);
  EXPECT_EQ(text, " stdin");
  EXPECT_EQ(g.read(0, text), 0u);
  EXPECT_EQ(text, "");
  EXPECT_EQ(g.write(1, "to stdout"), 0u);
  EXPECT_EQ(g.out, "to stdout");
  EXPECT_EQ(g.call("fd_fdstat_get", 1, kBufAt), 0u);
  EXPECT_EQ(g.mem()[kBufAt], 2);                                   // character device
  EXPECT_EQ(g.call("fd_seek", 1, int64_t{0}, 0, kResultAt), 70u);  // ESPIPE
  uint32_t a, b, c;
  EXPECT_EQ(g.open(3, "a.txt", a), 0u);
  EXPECT_EQ(g.open(3, "a.txt", b), 0u);
  EXPECT_EQ(g.open(3, "a.txt", c), 33u);  // EMFILE: max_open_files
  EXPECT_EQ(g.call("fd_close", a), 0u);
  EXPECT_EQ(g.open(3, "a.txt", c), 0u);
  EXPECT_EQ(c, a);  // the lowest free number
  // Each define_wasi has its own table: a second linker starts afresh.
  Abi other(tree);
  uint32_t first;
  EXPECT_EQ(other.open(3, "a.txt", first), 0u);
  EXPECT_EQ(first, 5u);
}

// poll_oneoff with one relative clock subscription of `ns` (monotonic clock).
uint32_t sleep_ns(Abi& g, uint64_t ns) {
  std::memset(g.mem() + kBufAt, 0, 48);
  g.set64(kBufAt, 0x1234);   // userdata
  g.mem()[kBufAt + 8] = 0;   // clock
  g.set32(kBufAt + 16, 1);   // monotonic
  g.set64(kBufAt + 24, ns);  // timeout
  return g.call("poll_oneoff", kBufAt, kBufAt + 1024, 1, kResultAt);
}

TEST_P(WasiAbi, PollOneoffSleeps) {
  Abi g(tree);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sleep_ns(g, 50'000'000), 0u);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(50));
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_EQ(g.u32(kResultAt), 1u);
  EXPECT_EQ(g.u64(kBufAt + 1024), 0x1234u);   // event userdata
  EXPECT_EQ(g.mem()[kBufAt + 1024 + 10], 0);  // type: clock
  // An fd_read subscription on stdin is ready at once, alongside a long clock.
  std::memset(g.mem() + kBufAt, 0, 96);
  g.set64(kBufAt + 24, 60'000'000'000);
  g.set32(kBufAt + 16, 1);
  g.set64(kBufAt + 48, 7);
  g.mem()[kBufAt + 48 + 8] = 1;  // fd_read
  g.set32(kBufAt + 48 + 16, 0);
  EXPECT_EQ(g.call("poll_oneoff", kBufAt, kBufAt + 1024, 2, kResultAt), 0u);
  EXPECT_EQ(g.u32(kResultAt), 1u);
  EXPECT_EQ(g.u64(kBufAt + 1024), 7u);
  g.set32(kBufAt + 48 + 16, 77);  // a bad fd: an event with EBADF
  EXPECT_EQ(g.call("poll_oneoff", kBufAt + 48, kBufAt + 1024, 1, kResultAt), 0u);
  EXPECT_EQ(g.mem()[kBufAt + 1024 + 8], 8);
  EXPECT_EQ(g.call("poll_oneoff", kBufAt, kBufAt + 1024, 0, kResultAt), 28u);  // none: EINVAL
}

TEST_P(WasiAbi, PollOneoffEndsEarlyWhenInterrupted) {
  Abi g(tree);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    g.store.interrupt();
  });
  const auto start = std::chrono::steady_clock::now();
  std::vector<Value> args{Value::i32(kBufAt), Value::i32(kBufAt + 1024), Value::i32(1),
                          Value::i32(kResultAt)};
  std::memset(g.mem() + kBufAt, 0, 48);
  g.set32(kBufAt + 16, 1);
  g.set64(kBufAt + 24, 60'000'000'000);  // a minute
  auto r = g.store.call(*g.instance, "poll_oneoff", args);
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // The guest returns straight after the call, so either the call or the next check stops it.
  if (r) g.store.clear_interrupt();
  // The same with the Store's deadline.
  g.store.set_deadline(std::chrono::milliseconds(100));
  const auto start2 = std::chrono::steady_clock::now();
  auto r2 = g.store.call(*g.instance, "poll_oneoff", args);
  EXPECT_LT(std::chrono::steady_clock::now() - start2, std::chrono::seconds(10));
  g.store.clear_deadline();
  if (r2) g.store.clear_interrupt();
}

INSTANTIATE_TEST_SUITE_P(Wasi, WasiAbi, ::testing::Values(Resolver::kKernel, Resolver::kWalk),
                         resolver_name);

// ---- a wasi-libc command (tests/testdata/wasi/fsops.c) -------------------------------------

#if WARDEN_WASI_C_GUESTS
// Runs `fsops args...` with "/data" = tree.mount and "/ro" = the same, read-only; returns what it
// printed (without the trailing newline).
std::string fsops(const Tree& tree, std::vector<std::string> args, std::string stdin_data = "") {
  static Engine engine{EngineConfig{}};
  static auto module = [] {
    auto m = CompiledModule::compile(
        engine, read_bytes(std::string(WARDEN_TEST_DATA) + "/wasi/fsops.wasm"));
    EXPECT_TRUE(m);
    return m ? *m : nullptr;
  }();
  auto config = std::make_shared<WasiConfig>();
  config->args.push_back("fsops");
  config->args.insert(config->args.end(), args.begin(), args.end());
  config->mounts.push_back({tree.mount.string(), "/data", false});
  config->mounts.push_back({tree.mount.string(), "/ro", true});
  config->stdin_data = std::move(stdin_data);
  std::string out;
  config->write_stdout = [&out](std::string_view s) { out += s; };
  Linker linker;
  define_wasi(linker, config);
  Store store(engine);
  auto instance = store.instantiate(module, linker);
  if (!instance) return "instantiate: " + instance.error().message();
  auto r = store.call(**instance, "_start", {});
  if (!r && !(r.error().kind == ExecError::Kind::Exit && r.error().exit_code == 0))
    return out + "failed: " + r.error().message();
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

struct WasiLibc : WithResolver {
  std::string run(std::vector<std::string> args, std::string stdin_data = "") {
    return fsops(tree, std::move(args), std::move(stdin_data));
  }
};

TEST_P(WasiLibc, ReadsAndWritesFiles) {
  EXPECT_EQ(run({"cat", "/data/a.txt"}), "ok hello file");
  EXPECT_EQ(run({"cat", "/data/inside"}), "ok hello file");
  EXPECT_EQ(run({"cat", "/data/sub/up_inside"}), "ok hello file");
  EXPECT_EQ(run({"cat", "/data/sub/../a.txt"}), "ok hello file");
  EXPECT_EQ(run({"cat", "/data/missing"}), "errno 44");
  EXPECT_EQ(run({"write", "/data/sub/new.txt", "new content"}), "ok");
  EXPECT_EQ(slurp(tree.mount / "sub" / "new.txt"), "new content");
  EXPECT_EQ(run({"append", "/data/sub/new.txt", "+more"}), "ok");
  EXPECT_EQ(run({"cat", "/data/sub/new.txt"}), "ok new content+more");
  EXPECT_EQ(run({"rw", "/data/rw.bin"}), "ok world 7 Jello w 7");
  EXPECT_EQ(run({"stat", "/data/sub"}).substr(0, 7), "ok dir ");
  EXPECT_EQ(run({"stat", "/data/inside"}), "ok file 10");
  EXPECT_EQ(run({"lstat", "/data/inside"}), "ok symlink 5");
  EXPECT_EQ(run({"truncate", "/data/a.txt", "5"}), "ok");
  EXPECT_EQ(slurp(tree.mount / "a.txt"), "hello");
  EXPECT_EQ(run({"utime", "/data/a.txt"}), "ok 1234567890");
  EXPECT_EQ(run({"stdin"}, "piped in"), "ok 8 piped in");
  EXPECT_EQ(run({"stdin"}), "ok 0 ");
}

TEST_P(WasiLibc, EscapesAreRefused) {
  for (const char* path : {"/data/../outside/secret.txt", "/data/sub/../../outside/secret.txt",
                           "/data/escape", "/data/outdir/secret.txt", "/data/etc/passwd",
                           "/data/sub/deeper/upup/secret.txt", "/data/dotdot/outside/secret.txt"}) {
    EXPECT_EQ(run({"cat", path}), "errno 63") << path;
  }
  // Not under any preopen: wasi-libc itself answers ENOTCAPABLE.
  EXPECT_EQ(run({"cat", "/etc/passwd"}), "errno 76");
  EXPECT_EQ(run({"write", "/data/../outside/new.txt", "x"}), "errno 63");
  EXPECT_EQ(run({"write", "/data/new_out", "x"}), "errno 63");
  EXPECT_EQ(run({"ls", "/data/outdir"}), "errno 63");
  EXPECT_EQ(run({"symlink", "../outside/secret.txt", "/data/mine"}), "errno 63");
  EXPECT_EQ(run({"symlink", "/etc/passwd", "/data/mine"}), "errno 63");
  EXPECT_EQ(run({"rename", "/data/a.txt", "/data/../outside/a.txt"}), "errno 63");
  EXPECT_EQ(run({"link", "/data/outdir/secret.txt", "/data/mine"}), "errno 63");
  EXPECT_EQ(run({"stat", "/data/escape"}), "errno 63");
  EXPECT_EQ(run({"lstat", "/data/escape"}), "ok symlink 21");
  EXPECT_FALSE(fs::exists(tree.outside / "new.txt"));
  EXPECT_FALSE(fs::exists(tree.outside / "created.txt"));
  EXPECT_FALSE(fs::exists(tree.outside / "a.txt"));
  EXPECT_FALSE(fs::exists(tree.mount / "mine"));
  EXPECT_EQ(slurp(tree.outside / "secret.txt"), "secret");
}

TEST_P(WasiLibc, DirectoriesAndNames) {
  EXPECT_EQ(run({"ls", "/data"}), "ok 9 a.txt,dotdot,escape,etc,inside,loop,new_out,outdir,sub");
  EXPECT_EQ(run({"mkdir", "/data/many"}), "ok");
  // Enough entries that wasi-libc's readdir buffer fills several times (resumed by cookie).
  for (int i = 0; i < 300; ++i)
    std::ofstream(tree.mount / "many" /
                  ("a-rather-long-file-name-to-fill-the-buffer-" + std::to_string(1000 + i)));
  EXPECT_EQ(run({"ls", "/data/many"}).substr(0, 7), "ok 300 ");
  EXPECT_EQ(run({"rmdir", "/data/many"}), "errno 55");
  EXPECT_EQ(run({"rename", "/data/a.txt", "/data/sub/b.txt"}), "ok");
  EXPECT_EQ(run({"cat", "/data/sub/b.txt"}), "ok hello file");
  EXPECT_EQ(run({"symlink", "b.txt", "/data/sub/l"}), "ok");
  EXPECT_EQ(run({"readlink", "/data/sub/l"}), "ok b.txt");
  EXPECT_EQ(run({"cat", "/data/sub/l"}), "ok hello file");
  EXPECT_EQ(run({"link", "/data/sub/b.txt", "/data/hard"}), "ok");
  EXPECT_EQ(run({"cat", "/data/hard"}), "ok hello file");
  EXPECT_EQ(run({"unlink", "/data/sub/l"}), "ok");
  EXPECT_EQ(run({"unlink", "/data/sub"}), "errno 31");
  EXPECT_EQ(run({"mkdir", "/data/sub/x"}), "ok");
  EXPECT_EQ(run({"rmdir", "/data/sub/x"}), "ok");
  EXPECT_FALSE(fs::exists(tree.mount / "sub" / "x"));
  EXPECT_EQ(run({"cat", "/data/loop"}), "errno 32");
}

TEST_P(WasiLibc, ReadOnlyMount) {
  EXPECT_EQ(run({"cat", "/ro/a.txt"}), "ok hello file");
  EXPECT_EQ(run({"ls", "/ro/sub"}), "ok 2 deeper,up_inside");
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"write", "/ro/a.txt", "x"},
                                             {"write", "/ro/b.txt", "x"},
                                             {"append", "/ro/a.txt", "x"},
                                             {"rw", "/ro/rw.bin"},
                                             {"mkdir", "/ro/d"},
                                             {"rmdir", "/ro/sub/deeper"},
                                             {"unlink", "/ro/a.txt"},
                                             {"rename", "/ro/a.txt", "/ro/b.txt"},
                                             {"symlink", "a.txt", "/ro/l"},
                                             {"truncate", "/ro/a.txt", "1"},
                                             {"utime", "/ro/a.txt"},
                                             {"link", "/ro/a.txt", "/data/l"}}) {
    EXPECT_EQ(run(args), "errno 63") << args[0] << " " << args[1];
  }
  EXPECT_EQ(slurp(tree.mount / "a.txt"), "hello file");
  EXPECT_FALSE(fs::exists(tree.mount / "b.txt"));
  EXPECT_FALSE(fs::exists(tree.mount / "d"));
}

TEST_P(WasiLibc, Sleeps) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run({"sleep", "50"}), "ok");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
}
INSTANTIATE_TEST_SUITE_P(Wasi, WasiLibc, ::testing::Values(Resolver::kKernel, Resolver::kWalk),
                         resolver_name);
#endif  // WARDEN_WASI_C_GUESTS

}  // namespace
}  // namespace warden::wasi

namespace warden::extism {
namespace {

namespace fs = std::filesystem;

// The plugin-level tests use the same tree as the resolver tests above.
struct Wasi : ::testing::Test, Tree {
  std::unique_ptr<Plugin> plugin(bool read_only = false,
                                 std::optional<uint64_t> timeout = std::nullopt,
                                 std::string file = "file_reader") {
    Manifest m;
    WasmSource s;
    s.data =
        read_bytes(file == "file_reader" ? std::string(WARDEN_PLUGINS) + "/file_reader.wasm"
                                         : std::string(WARDEN_TEST_DATA) + "/" + file + ".wasm");
    m.wasm.push_back(std::move(s));
    m.allowed_paths.emplace_back((read_only ? "ro:" : "") + mount.string(), "/data");
    m.timeout_ms = timeout;
    m.config["content"] = "new content";
    PluginOptions options;
    options.wasi = true;
    auto p = Plugin::create(m, options);
    EXPECT_TRUE(p) << p.error().message;
    return std::move(*p);
  }
  std::string ok(Plugin& p, std::string_view f, std::string_view in) {
    auto r = p.call(f, in);
    EXPECT_TRUE(r) << f << "(" << in << "): " << r.error().message;
    return r ? std::string(*r) : "";
  }
  std::string err(Plugin& p, std::string_view f, std::string_view in) {
    auto r = p.call(f, in);
    EXPECT_FALSE(r) << f << "(" << in << ") succeeded: " << (r ? std::string(*r) : "");
    return r ? "" : r.error().message;
  }
};

TEST_F(Wasi, ReadsFilesAndFollowsSymlinksThatStayInside) {
  auto p = plugin();
  EXPECT_EQ(ok(*p, "read_file", "/data/a.txt"), "hello file");
  EXPECT_EQ(ok(*p, "read_file", "/data/inside"), "hello file");
  EXPECT_EQ(ok(*p, "read_file", "/data/sub/up_inside"), "hello file");
  EXPECT_EQ(ok(*p, "read_file", "/data/sub/../a.txt"), "hello file");
  EXPECT_EQ(err(*p, "read_file", "/data/missing"),
            "cannot open /data/missing: No such file or directory");
}

TEST_F(Wasi, EveryEscapeIsRefusedWithEperm) {
  auto p = plugin();
  for (std::string path : {"/data/../outside/secret.txt", "/data/sub/../../outside/secret.txt",
                           "/data/escape", "/data/outdir/secret.txt", "/data/etc/passwd",
                           "/data/sub/deeper/../../../outside/secret.txt"}) {
    EXPECT_EQ(err(*p, "read_file", path), "cannot open " + path + ": Operation not permitted")
        << path;
  }
  // Not under any mount: wasi-libc finds no preopen and says ENOTCAPABLE itself.
  EXPECT_EQ(err(*p, "read_file", "/etc/passwd"),
            "cannot open /etc/passwd: Capabilities insufficient");
  EXPECT_EQ(err(*p, "write_file", "/data/../outside/new.txt"),
            "cannot create /data/../outside/new.txt: Operation not permitted");
  EXPECT_FALSE(fs::exists(outside / "new.txt"));
  EXPECT_EQ(slurp(outside / "secret.txt"), "secret");
}

TEST_F(Wasi, WritesCreateFilesInAWritableMount) {
  auto p = plugin();
  EXPECT_EQ(ok(*p, "write_file", "/data/sub/new.txt"), "written");
  EXPECT_EQ(slurp(mount / "sub" / "new.txt"), "new content");
  EXPECT_EQ(ok(*p, "read_file", "/data/sub/new.txt"), "new content");
}

TEST_F(Wasi, ReadOnlyMountRefusesWrites) {
  auto p = plugin(/*read_only=*/true);
  EXPECT_EQ(ok(*p, "read_file", "/data/a.txt"), "hello file");
  EXPECT_EQ(err(*p, "write_file", "/data/a.txt"),
            "cannot create /data/a.txt: Operation not permitted");
  EXPECT_EQ(err(*p, "write_file", "/data/b.txt"),
            "cannot create /data/b.txt: Operation not permitted");
  EXPECT_EQ(slurp(mount / "a.txt"), "hello file");
  EXPECT_FALSE(fs::exists(mount / "b.txt"));
}

TEST_F(Wasi, ListsADirectory) {
  auto p = plugin();
  EXPECT_EQ(ok(*p, "list_dir", "/data"),
            "a.txt\ndotdot\nescape\netc\ninside\nloop\nnew_out\noutdir\nsub\n");
  EXPECT_EQ(ok(*p, "list_dir", "/data/sub"), "deeper\nup_inside\n");
  EXPECT_EQ(err(*p, "list_dir", "/data/outdir"),
            "cannot list /data/outdir: Operation not permitted");
}

TEST_F(Wasi, PollOneoffSleepsAndEndsEarlyOnTimeout) {
  auto p = plugin(false, 300);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ok(*p, "sleep_ms", "50"), "slept");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  const auto long_start = std::chrono::steady_clock::now();
  EXPECT_EQ(err(*p, "sleep_ms", "20000"), "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - long_start, std::chrono::seconds(10));  // not 20 s
  EXPECT_EQ(ok(*p, "read_file", "/data/a.txt"), "hello file");
}

TEST_F(Wasi, PointersOutsideMemoryAreEfault) {
  auto p = plugin(false, std::nullopt, "plugin_wasi_pointers");
  for (const char* f : {"dir_name", "path_open", "fd_read", "poll"})
    EXPECT_EQ(err(*p, f, ""), "Returned non-zero exit code: 21") << f;
  EXPECT_EQ(err(*p, "bad_fd", ""), "Returned non-zero exit code: 8");  // EBADF
}

#if WARDEN_GO_GUEST
// tests/go/main.go, built with the standard Go compiler for wasip1: a `_start` plugin whose input
// is one command per line and whose output is one line per command.
TEST_F(Wasi, GoGuestReadsOnAReadOnlyMount) {
  auto p = plugin(/*read_only=*/true, std::nullopt, "goguest");
  const std::string commands =
      "sort zeta alpha mid\n"
      "sha256 hello\n"
      "args\n"
      "random\n"
      "sleep 20\n"
      "read /data/a.txt\n"
      "read /data/inside\n"
      "list /data/sub\n"
      "read /data/escape\n"
      "write /data/new.txt x\n"
      "print to the discarded stdout\n";
  EXPECT_EQ(
      ok(*p, "_start", commands),
      "alpha mid zeta\n"
      "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n"  // SHA-256("hello")
      "0 0\n"  // no arguments, no environment
      "ok\n"
      "true\n"
      "hello file\n"
      "hello file\n"
      "deeper,up_inside\n"
      "error: open /data/escape: Operation not permitted\n"  // Go's EPERM text
      "error: open /data/new.txt: Operation not permitted\n"
      "printed");
  EXPECT_FALSE(fs::exists(mount / "new.txt"));
}

TEST_F(Wasi, GoGuestWritesInAWritableMountAndExits) {
  auto p = plugin(/*read_only=*/false, std::nullopt, "goguest");
  EXPECT_EQ(ok(*p, "_start", "write /data/sub/new.txt written by Go\nlist /data/sub"),
            "written by Go\ndeeper,new.txt,up_inside");
  EXPECT_EQ(slurp(mount / "sub" / "new.txt"), "written by Go");
  // os.Exit is proc_exit: its code is the rc; the next _start gets a fresh instance.
  auto r = p->call("_start", "exit 3");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "Exited with i32 exit status 3");
  EXPECT_EQ(r.error().rc, 3);
  EXPECT_EQ(ok(*p, "_start", "sort b a"), "a b");
}
#endif  // WARDEN_GO_GUEST

TEST_F(Wasi, MissingMountIsRefusedAtCreation) {
  Manifest m;
  WasmSource s;
  s.data = read_bytes(std::string(WARDEN_PLUGINS) + "/file_reader.wasm");
  m.wasm.push_back(std::move(s));
  m.allowed_paths.emplace_back((root / "nope").string(), "/data");
  PluginOptions options;
  options.wasi = true;
  auto p = Plugin::create(m, options);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "allowed_paths: " + (root / "nope").string() + " is not a directory");
}

}  // namespace
}  // namespace warden::extism

namespace warden::extism {
namespace {

// A mount that is itself procfs or sysfs is refused when the plugin is created.
TEST(WasiMounts, APseudoFileSystemCannotBeMounted) {
  for (const char* dir : {"/proc", "ro:/proc", "/sys", "ro:/proc/self"}) {
    Manifest m;
    WasmSource s;
    s.kind = WasmSource::Kind::Path;
    s.path = std::string(WARDEN_PLUGINS) + "/count_vowels.wasm";
    m.wasm.push_back(s);
    m.allowed_paths.emplace_back(dir, "/mnt");
    PluginOptions options;
    options.wasi = true;
    auto p = Plugin::create(m, options);
    ASSERT_FALSE(p) << dir;
    const std::string host = std::string(dir).starts_with("ro:") ? std::string(dir).substr(3) : dir;
    EXPECT_EQ(p.error().message, "allowed_paths: " + host +
                                     " is a host pseudo file system (procfs, sysfs, ...): refused");
  }
}

}  // namespace
}  // namespace warden::extism
