// The on-disk cache of validation results (hostabi/module_cache.h): a hit skips validation and
// gives the same module; anything the cache did not write for these bytes and this build is
// ignored, the module validated again and the entry rewritten; an invalid module is never cached.
#include "hostabi/module_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "hostabi/manifest.h"
#include "hostabi/plugin.h"
#include "test_guest.h"

namespace warden::extism {
namespace {

namespace fs = std::filesystem;

class ModuleCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("warden-module-cache-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<ModuleCache> open(const fs::path& dir, ModuleCache::Options options = {}) {
    auto cache = ModuleCache::open(dir, std::move(options));
    EXPECT_TRUE(cache) << cache.error().message;
    return cache ? *cache : nullptr;
  }
  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static void write(const fs::path& path, const std::string& data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  }

  fs::path dir_;
  // A C plugin (clang -O2): blocks, loops and ifs in many functions, so the facts are not trivial.
  std::vector<uint8_t> bytes_ = test::example_plugin_bytes("count_vowels");
  std::string sha_ = sha256_hex(bytes_);
};

void expect_same_facts(const Module& a, const Module& b) {
  ASSERT_EQ(a.function_info.size(), b.function_info.size());
  for (size_t i = 0; i < a.function_info.size(); ++i) {
    const FunctionInfo &x = a.function_info[i], &y = b.function_info[i];
    EXPECT_EQ(x.locals, y.locals) << "function " << i;
    EXPECT_EQ(x.max_stack_height, y.max_stack_height) << "function " << i;
    EXPECT_EQ(x.max_control_depth, y.max_control_depth) << "function " << i;
    ASSERT_EQ(x.blocks.size(), y.blocks.size()) << "function " << i;
    for (size_t k = 0; k < x.blocks.size(); ++k) {
      EXPECT_EQ(x.blocks[k].offset, y.blocks[k].offset);
      EXPECT_EQ(x.blocks[k].else_offset, y.blocks[k].else_offset);
      EXPECT_EQ(x.blocks[k].end_offset, y.blocks[k].end_offset);
      EXPECT_EQ(x.blocks[k].param_count, y.blocks[k].param_count);
      EXPECT_EQ(x.blocks[k].result_count, y.blocks[k].result_count);
    }
  }
}

TEST_F(ModuleCacheTest, MissWritesAnEntryAndTheNextOpenerHitsWithTheSameModule) {
  auto validated = load_module(bytes_);
  ASSERT_TRUE(validated);
  size_t blocks = 0;
  for (const FunctionInfo& f : validated->function_info) blocks += f.blocks.size();
  ASSERT_GT(blocks, 10u) << "the guest should have blocks to remember";

  auto first = open(dir_);
  auto missed = first->load(bytes_, sha_, {});
  ASSERT_TRUE(missed);
  EXPECT_EQ(first->stats().misses, 1u);
  EXPECT_EQ(first->stats().hits, 0u);
  EXPECT_TRUE(fs::is_regular_file(first->entry_path(sha_)));
  EXPECT_EQ(fs::status(dir_).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(dir_ / "key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  auto second = open(dir_);  // another process's restart: the same directory, a new cache
  auto hit = second->load(bytes_, sha_, {});
  ASSERT_TRUE(hit);
  EXPECT_EQ(second->stats().hits, 1u);
  EXPECT_EQ(second->stats().misses, 0u);
  EXPECT_TRUE(hit->validated);
  expect_same_facts(*validated, *hit);
}

TEST_F(ModuleCacheTest, APluginCreatedFromAHitRunsAsOneThatValidated) {
  const auto plugin = test::example_plugin_bytes("count_vowels");
  auto call = [&](std::shared_ptr<ModuleCache> cache) {
    PluginOptions options;
    options.module_cache = std::move(cache);
    auto p = Plugin::create(plugin, std::move(options));
    EXPECT_TRUE(p) << p.error().message;
    if (!p) return std::string();
    auto out = (*p)->call("count_vowels", "Hello, World!");
    EXPECT_TRUE(out) << out.error().message;
    return out ? std::string(*out) : std::string();
  };
  const std::string expected = call(nullptr);
  EXPECT_NE(expected.find("\"count\":3"), std::string::npos) << expected;

  auto first = open(dir_);
  EXPECT_EQ(call(first), expected);  // the plugin is freed: nothing stays compiled in memory
  EXPECT_EQ(first->stats().misses, 1u);
  auto second = open(dir_);
  EXPECT_EQ(call(second), expected);
  EXPECT_EQ(second->stats().hits, 1u);
  EXPECT_EQ(second->stats().misses, 0u);
}

// Each way an entry can be wrong: ignored, the module validated again, the entry rewritten.
TEST_F(ModuleCacheTest, CorruptTruncatedOversizedAndNonFileEntriesAreIgnoredAndRewritten) {
  auto cache = open(dir_);
  ASSERT_TRUE(cache->load(bytes_, sha_, {}));
  const fs::path entry = cache->entry_path(sha_);
  const std::string good = read(entry);
  ASSERT_GT(good.size(), 64u);

  struct Damage {
    const char* what;
    std::function<void()> apply;
  };
  const Damage damages[] = {
      {"one flipped byte in the facts",
       [&] {
         std::string bad = good;
         bad[bad.size() / 2] ^= 0x01;
         write(entry, bad);
       }},
      {"one flipped byte in the MAC",
       [&] {
         std::string bad = good;
         bad.back() ^= 0x80;
         write(entry, bad);
       }},
      {"truncated", [&] { write(entry, good.substr(0, good.size() - 7)); }},
      {"empty", [&] { write(entry, ""); }},
      {"oversized", [&] { write(entry, good + std::string(32 * bytes_.size() + 8192, 'x')); }},
      {"a symbolic link to a good entry",
       [&] {
         write(dir_ / "elsewhere", good);
         fs::remove(entry);
         fs::create_symlink(dir_ / "elsewhere", entry);
       }},
  };
  uint64_t ignored = 0, misses = 1;
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.what);
    d.apply();
    auto module = cache->load(bytes_, sha_, {});
    ASSERT_TRUE(module) << module.error().to_string();
    EXPECT_EQ(cache->stats().ignored, ++ignored);
    EXPECT_EQ(cache->stats().misses, ++misses);
    EXPECT_EQ(cache->stats().hits, 0u);
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(entry)));
    EXPECT_EQ(read(entry), good);  // rewritten whole, by rename: a link is replaced, not followed
    ASSERT_TRUE(cache->load(bytes_, sha_, {}));
    EXPECT_EQ(cache->stats().hits, 1u);
    cache = open(dir_);  // fresh counters for the next damage
    ignored = 0;
    misses = 0;
  }
}

TEST_F(ModuleCacheTest, AnEntryThatCannotBeWrittenCostsOnlyAValidation) {
  auto cache = open(dir_);
  fs::create_directory(cache->entry_path(sha_));  // nothing can be renamed over a directory
  auto module = cache->load(bytes_, sha_, {});
  ASSERT_TRUE(module);
  EXPECT_EQ(cache->stats().write_failures, 1u);
  EXPECT_EQ(cache->stats().ignored, 1u);
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos)
        << "temporary file left behind: " << e.path();
}

TEST_F(ModuleCacheTest, EntriesOfAnotherDirectoryOrBuildOrFeatureSetAreForeign) {
  auto here = open(dir_);
  ASSERT_TRUE(here->load(bytes_, sha_, {}));

  const fs::path there_dir = dir_.string() + "-there";
  auto there = open(there_dir);  // its own key
  fs::copy_file(here->entry_path(sha_), there->entry_path(sha_));
  ASSERT_TRUE(there->load(bytes_, sha_, {}));
  EXPECT_EQ(there->stats().ignored, 1u);
  EXPECT_EQ(there->stats().hits, 0u);
  fs::remove_all(there_dir);

  auto other_build = open(dir_, {.build = "warden 0.0.0 build-id 00"});
  ASSERT_TRUE(other_build->load(bytes_, sha_, {}));
  EXPECT_EQ(other_build->stats().ignored, 1u);
  EXPECT_EQ(other_build->stats().hits, 0u);

  auto this_build = open(dir_);  // the entry now belongs to the other build
  Features no_simd;
  no_simd.simd = no_simd.relaxed_simd = false;
  ASSERT_TRUE(this_build->load(bytes_, sha_, {}));
  EXPECT_EQ(this_build->stats().ignored, 1u);
  ASSERT_TRUE(this_build->load(bytes_, sha_, no_simd));
  EXPECT_EQ(this_build->stats().ignored, 2u) << "validated with other features: not a hit";
  EXPECT_EQ(this_build->stats().hits, 0u);
}

// An invalid module is refused every time, whatever is in the cache under its name.
TEST_F(ModuleCacheTest, InvalidModulesAreNeverCachedAndNoEntryMakesThemValid) {
  // (func (result i32) (i64.const 0)): decodes, does not validate.
  const std::vector<uint8_t> invalid = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01,
                                        0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01,
                                        0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b};
  ASSERT_FALSE(load_module(invalid));
  const std::string invalid_sha = sha256_hex(invalid);
  auto cache = open(dir_);
  auto refused = cache->load(invalid, invalid_sha, {});
  ASSERT_FALSE(refused);
  EXPECT_FALSE(refused.error().malformed());
  EXPECT_FALSE(fs::exists(cache->entry_path(invalid_sha)));

  // A good entry (of another module) put in its place: bound to that module's hash, ignored.
  ASSERT_TRUE(cache->load(bytes_, sha_, {}));
  fs::copy_file(cache->entry_path(sha_), cache->entry_path(invalid_sha));
  EXPECT_FALSE(cache->load(invalid, invalid_sha, {}));
  EXPECT_EQ(cache->stats().ignored, 1u);

  // A name that is not a hash never becomes a path.
  auto unnamed = cache->load(bytes_, "../../etc/passwd", {});
  EXPECT_TRUE(unnamed);
  EXPECT_EQ(cache->stats().misses, 3u);
}

// The facts are checked to fit the module even when their MAC is right (the cache's key holder
// made them): one per function, every block inside its function.
TEST_F(ModuleCacheTest, FactsThatDoNotFitTheModuleAreRefused) {
  auto validated = load_module(bytes_);
  ASSERT_TRUE(validated);
  auto facts = validation_facts(*validated);
  ASSERT_TRUE(load_prevalidated_module(bytes_, facts));

  auto fewer = facts;
  fewer.pop_back();
  auto refused = load_prevalidated_module(bytes_, fewer);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("function count"), std::string::npos);

  size_t with_blocks = 0;
  while (facts[with_blocks].blocks.empty()) ++with_blocks;
  for (int field = 0; field < 3; ++field) {
    auto moved = facts;
    BlockInfo& b = moved[with_blocks].blocks[0];
    if (field == 0) b.offset = 0;
    if (field == 1) b.end_offset = static_cast<uint32_t>(bytes_.size() + 100);
    if (field == 2) b.else_offset = b.end_offset + 1;
    auto outside = load_prevalidated_module(bytes_, moved);
    ASSERT_FALSE(outside) << "field " << field;
    EXPECT_NE(outside.error().message().find("outside its function"), std::string::npos);
  }
}

TEST_F(ModuleCacheTest, AKeyOfTheWrongSizeOrOpenToOthersIsRefusedWithTheReason) {
  ASSERT_TRUE(open(dir_));
  const fs::path key = dir_ / "key";
  fs::permissions(key, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  auto shared = ModuleCache::open(dir_);
  ASSERT_FALSE(shared);
  EXPECT_NE(shared.error().message.find("chmod 600"), std::string::npos) << shared.error().message;

  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
  write(key, "short");
  auto short_key = ModuleCache::open(dir_);
  ASSERT_FALSE(short_key);
  EXPECT_NE(short_key.error().message.find("32 bytes"), std::string::npos)
      << short_key.error().message;

  write(dir_.string() + "-file", "");
  auto not_dir = ModuleCache::open(dir_.string() + "-file");
  ASSERT_FALSE(not_dir);
  EXPECT_NE(not_dir.error().message.find("not a directory"), std::string::npos);
  fs::remove(dir_.string() + "-file");
}

}  // namespace
}  // namespace warden::extism
