// WASI preview1 through the Plugin API: files on mounts, and every way out of a mount refused
// (`..`, absolute paths, symlinks to outside in the last or a middle component, read-only
// mounts); poll_oneoff sleeping, and ending early when the call times out; bad pointers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "hostabi/plugin.h"

namespace warden::extism {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Wasi : ::testing::Test {
  fs::path root, mount, outside;
  void SetUp() override {
    root = fs::temp_directory_path() / ("warden-wasi-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    mount = root / "mount";
    outside = root / "outside";
    fs::create_directories(mount / "sub" / "deeper");
    fs::create_directories(outside);
    std::ofstream(mount / "a.txt") << "hello file";
    std::ofstream(outside / "secret.txt") << "secret";
    fs::create_symlink("../outside/secret.txt", mount / "escape");
    fs::create_symlink("../outside", mount / "outdir");
    fs::create_symlink("/etc", mount / "etc");
    fs::create_symlink("a.txt", mount / "inside");
    fs::create_symlink("../a.txt", mount / "sub" / "up_inside");
  }
  void TearDown() override { fs::remove_all(root); }

  std::unique_ptr<Plugin> plugin(bool read_only = false, std::optional<uint64_t> timeout = std::nullopt,
                                 std::string file = "file_reader") {
    Manifest m;
    WasmSource s;
    s.data = read(file == "file_reader" ? std::string(WARDEN_PLUGINS) + "/file_reader.wasm"
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
  EXPECT_EQ(err(*p, "read_file", "/data/missing"), "cannot open /data/missing: No such file or directory");
}

TEST_F(Wasi, EveryEscapeIsRefusedWithEperm) {
  auto p = plugin();
  for (std::string path : {"/data/../outside/secret.txt", "/data/sub/../../outside/secret.txt", "/data/escape",
                           "/data/outdir/secret.txt", "/data/etc/passwd", "/data/sub/deeper/../../../outside/secret.txt"}) {
    EXPECT_EQ(err(*p, "read_file", path), "cannot open " + path + ": Operation not permitted") << path;
  }
  // Not under any mount: wasi-libc finds no preopen and says ENOTCAPABLE itself.
  EXPECT_EQ(err(*p, "read_file", "/etc/passwd"), "cannot open /etc/passwd: Capabilities insufficient");
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
  EXPECT_EQ(err(*p, "write_file", "/data/a.txt"), "cannot create /data/a.txt: Operation not permitted");
  EXPECT_EQ(err(*p, "write_file", "/data/b.txt"), "cannot create /data/b.txt: Operation not permitted");
  EXPECT_EQ(slurp(mount / "a.txt"), "hello file");
  EXPECT_FALSE(fs::exists(mount / "b.txt"));
}

TEST_F(Wasi, ListsADirectory) {
  auto p = plugin();
  EXPECT_EQ(ok(*p, "list_dir", "/data"), "a.txt\nescape\netc\ninside\noutdir\nsub\n");
  EXPECT_EQ(ok(*p, "list_dir", "/data/sub"), "deeper\nup_inside\n");
  EXPECT_EQ(err(*p, "list_dir", "/data/outdir"), "cannot list /data/outdir: Operation not permitted");
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

TEST_F(Wasi, MissingMountIsRefusedAtCreation) {
  Manifest m;
  WasmSource s;
  s.data = read(std::string(WARDEN_PLUGINS) + "/file_reader.wasm");
  m.wasm.push_back(std::move(s));
  m.allowed_paths.emplace_back((root / "nope").string(), "/data");
  PluginOptions options;
  options.wasi = true;
  auto p = Plugin::create(m, options);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "allowed_paths: " + (root / "nope").string() + " is not a directory");
}

}  // namespace
}  // namespace warden::extism
