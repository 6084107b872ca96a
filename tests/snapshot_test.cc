// Snapshots: memory images (copy-on-write and copied), Store::snapshot/restore and the plugin's
// snapshot after init (tests/testdata/plugin_snapshot.wat), that new instances start from without
// running init again, and that never carry one caller's data into another instance.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "hostabi/plugin.h"
#include "test_guest.h"
#include "vm/byte_buffer.h"
#include "vm/engine.h"
#include "vm/snapshot.h"
#include "vm/store.h"

namespace warden {
namespace {

using extism::CurrentPlugin;
using extism::Manifest;
using extism::Plugin;
using extism::PluginFunction;
using extism::PluginOptions;
using Mode = MemoryImage::Mode;

extism::WasmSource source_of(const char* guest) {
  extism::WasmSource s;
  s.kind = extism::WasmSource::Kind::Data;
  s.data = test::guest_bytes(guest);
  return s;
}

class Modes : public ::testing::TestWithParam<Mode> {};
INSTANTIATE_TEST_SUITE_P(Snapshot, Modes, ::testing::Values(Mode::CopyOnWrite, Mode::Copy),
                         [](const auto& info) {
                           return info.param == Mode::CopyOnWrite ? "CopyOnWrite" : "Copy";
                         });

std::vector<uint8_t> pages_with(std::initializer_list<std::pair<size_t, uint8_t>> bytes,
                                size_t pages = 2) {
  std::vector<uint8_t> v(pages * kPageSize, 0);
  for (auto [at, b] : bytes) v[at] = b;
  return v;
}

TEST_P(Modes, ImageBuffersAreIndependentOfEachOtherAndOfTheImage) {
  std::vector<uint8_t> source = pages_with({{0, 1}, {5000, 2}, {kPageSize + 7, 3}});
  auto image = MemoryImage::capture(source, GetParam());
  ASSERT_TRUE(image);
  EXPECT_EQ(image->size(), source.size());
  // Zero pages cost nothing: two non-zero 4 KiB stretches (0 and 4096, 65536) are kept.
  EXPECT_EQ(image->resident_bytes(), 3u * 4096);
  source[0] = 99;  // the picture was taken: later writes to the source do not reach it
  ByteBuffer a, b;
  ASSERT_TRUE(a.assign(*image, 4 * kPageSize));
  ASSERT_TRUE(b.assign(*image, image->size()));
  EXPECT_EQ(a.size(), 2 * kPageSize);
  EXPECT_EQ(a.data()[0], 1);
  a.data()[0] = 42;
  a.data()[5000] = 43;
  EXPECT_EQ(b.data()[0], 1);
  EXPECT_EQ(b.data()[5000], 2);
  EXPECT_EQ(b.data()[kPageSize + 7], 3);
  ByteBuffer c;
  ASSERT_TRUE(c.assign(*image, image->size()));
  EXPECT_EQ(c.data()[0], 1);
  EXPECT_EQ(c.data()[5000], 2);
  // Growing inside the reserved capacity, and past it (out of the mapping): the bytes stay,
  // the new ones are zero.
  ASSERT_TRUE(a.grow(3 * kPageSize, 3 * kPageSize));
  EXPECT_EQ(a.data()[0], 42);
  EXPECT_EQ(a.data()[2 * kPageSize + 1], 0);
  ASSERT_TRUE(b.grow(8 * kPageSize, 16 * kPageSize));
  EXPECT_EQ(b.data()[kPageSize + 7], 3);
  EXPECT_EQ(b.data()[5000], 2);
  for (size_t i = 2 * kPageSize; i < 8 * kPageSize; i += 4093) EXPECT_EQ(b.data()[i], 0) << i;
  // A buffer outlives its image.
  image.reset();
  EXPECT_EQ(c.data()[kPageSize + 7], 3);
}

TEST(Snapshot, CopyOnWriteIsUsedOnLinux) {
#if defined(__linux__)
  auto image = MemoryImage::capture(pages_with({{0, 1}}), Mode::CopyOnWrite);
  ASSERT_TRUE(image);
  EXPECT_TRUE(image->copy_on_write());
#endif
  auto copied = MemoryImage::capture(pages_with({{0, 1}}), Mode::Copy);
  ASSERT_TRUE(copied);
  EXPECT_FALSE(copied->copy_on_write());
}

// A module whose table holds a host's externref: no snapshot can carry it to another store.
TEST(Snapshot, HostReferencesAreRefused) {
  // (module (table (export "t") 1 externref)
  //   (func (export "set") (param externref) (table.set 0 (i32.const 0) (local.get 0))))
  const std::vector<uint8_t> wasm = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05,
                                     0x01, 0x60, 0x01, 0x6f, 0x00, 0x03, 0x02, 0x01, 0x00, 0x04,
                                     0x04, 0x01, 0x6f, 0x00, 0x01, 0x07, 0x0b, 0x02, 0x01, 0x74,
                                     0x01, 0x00, 0x03, 0x73, 0x65, 0x74, 0x00, 0x00, 0x0a, 0x0a,
                                     0x01, 0x08, 0x00, 0x41, 0x00, 0x20, 0x00, 0x26, 0x00, 0x0b};
  Engine engine;
  auto compiled = CompiledModule::compile(engine, wasm);
  ASSERT_TRUE(compiled) << compiled.error().message();
  Store store(engine);
  Linker linker;
  auto instance = store.instantiate(*compiled, linker);
  ASSERT_TRUE(instance);
  EXPECT_TRUE(store.snapshot());  // null references are fine
  const Value host_word = Value::externref(0x1234);
  ASSERT_TRUE(store.call(**instance, "set", std::span(&host_word, 1)));
  auto refused = store.snapshot();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ExecError::Kind::Usage);
  EXPECT_NE(refused.error().message().find("externref"), std::string::npos)
      << refused.error().message();
}

// A store instantiated to be restored has no memory pages until it is: nothing runs in it before.
TEST(Snapshot, AStoreMadeForARestoreRunsNothingUntilRestored) {
  // (module (memory 1) (func (export "size") (result i32) (memory.size)))
  const std::vector<uint8_t> wasm = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01,
      0x7f, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x08, 0x01, 0x04,
      0x73, 0x69, 0x7a, 0x65, 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x3f, 0x00, 0x0b};
  Engine engine;
  auto compiled = CompiledModule::compile(engine, wasm);
  ASSERT_TRUE(compiled) << compiled.error().message();
  Linker linker;
  Store original(engine);
  ASSERT_TRUE(original.instantiate(*compiled, linker));
  auto snap = original.snapshot();
  ASSERT_TRUE(snap) << snap.error().message();

  Store skipped(engine);
  auto instance = skipped.instantiate(*compiled, linker, Store::Segments::Skip);
  ASSERT_TRUE(instance);
  auto early = skipped.call(**instance, "size", {});
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().kind, ExecError::Kind::Usage);
  EXPECT_NE(early.error().message().find("not restored"), std::string::npos)
      << early.error().message();
  EXPECT_FALSE(skipped.snapshot());
  // Another shape (no instance) is refused; this one is restored, and runs.
  Store empty(engine);
  auto other = empty.restore(**snap);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message().find("not made like"), std::string::npos);
  ASSERT_TRUE(skipped.restore(**snap));
  auto size = skipped.call(**instance, "size", {});
  ASSERT_TRUE(size) << size.error().message();
  EXPECT_EQ((*size)[0].as_i32(), 1);
}

// The plugin of tests/testdata/plugin_snapshot.wat, counting its inits in `inits`.
struct SnapshotGuest {
  int inits = 0;
  Manifest manifest() const {
    Manifest m;
    m.wasm.push_back(source_of("plugin_snapshot"));
    return m;
  }
  PluginOptions options() {
    PluginOptions o;
    o.functions.push_back(PluginFunction{
        .name = "init_seen",
        .type = FuncType{{}, {}},
        .callback = [this](CurrentPlugin&, std::span<const Value>, std::span<Value>) -> HostResult {
          ++inits;
          return {};
        }});
    return o;
  }
};

// What `state` reports (see the guest's comment).
struct State {
  uint32_t inits, secret_len, table3, marker;
  std::string secret;
  uint32_t pages, grown_page, var_secret, var_init, copied_in_init;
};

State state_of(Plugin& plugin) {
  auto out = plugin.call("state", "");
  EXPECT_TRUE(out) << out.error().message;
  State s{};
  if (!out || out->size() != 52) {
    ADD_FAILURE() << "state output of " << (out ? out->size() : 0) << " bytes";
    return s;
  }
  auto word = [&](size_t at) {
    uint32_t w;
    std::memcpy(&w, out->data() + at, 4);
    return w;
  };
  s.inits = word(0);
  s.secret_len = word(4);
  s.table3 = word(8);
  s.marker = word(12);
  s.secret.assign(out->data() + 16, 16);
  s.pages = word(32);
  s.grown_page = word(36);
  s.var_secret = word(40);
  s.var_init = word(44);
  s.copied_in_init = word(48);
  return s;
}

TEST_P(Modes, NewInstancesStartFromTheStateInitLeftWithoutRunningInitAgain) {
  SnapshotGuest guest;
  auto proto = Plugin::create(guest.manifest(), guest.options());
  ASSERT_TRUE(proto) << proto.error().message;
  ASSERT_TRUE((*proto)->warm());
  EXPECT_EQ(guest.inits, 1);
  auto snap = (*proto)->snapshot(GetParam());
  ASSERT_TRUE(snap) << snap.error().message;
  for (int i = 0; i < 3; ++i) {
    auto sibling = Plugin::create_like(**proto, guest.options());
    ASSERT_TRUE(sibling) << sibling.error().message;
    ASSERT_TRUE((*sibling)->warm_from(**snap));
    const State s = state_of(**sibling);
    EXPECT_EQ(s.inits, 1u);            // the global init set
    EXPECT_EQ(s.table3, 7u);           // the table slot init filled (a function of this instance)
    EXPECT_EQ(s.marker, 0x54494E49u);  // "INIT", written by init
    EXPECT_EQ(s.pages, 3u);            // init grew the memory by a page
    EXPECT_EQ(s.grown_page, 0x5Au);    // and wrote on it
    EXPECT_EQ(s.var_init, 4u);         // the var init set
    EXPECT_EQ(s.copied_in_init, 0x53534150u);  // "PASS": init's memory.init of the passive segment
    EXPECT_EQ(s.secret_len, 0u);
    EXPECT_EQ(s.var_secret, 0u);
    EXPECT_EQ(s.secret, std::string(16, '\0'));
    // Init's data.drop holds: memory.init of the dropped segment traps.
    auto dropped = (*sibling)->call("reinit", "");
    ASSERT_FALSE(dropped);
    EXPECT_NE(dropped.error().message.find("out of bounds"), std::string::npos)
        << dropped.error().message;
  }
  EXPECT_EQ(guest.inits, 1);  // init ran once, in the prototype
}

TEST_P(Modes, ASnapshotNeverCarriesOneCallersSecretToAnother) {
  SnapshotGuest guest;
  auto proto = Plugin::create(guest.manifest(), guest.options());
  ASSERT_TRUE(proto);
  ASSERT_TRUE((*proto)->warm());
  auto snap = (*proto)->snapshot(GetParam());
  ASSERT_TRUE(snap) << snap.error().message;
  auto make = [&] {
    auto p = Plugin::create_like(**proto, guest.options());
    EXPECT_TRUE(p);
    EXPECT_TRUE((*p)->warm_from(**snap));
    return std::move(*p);
  };
  auto a = make();
  ASSERT_TRUE(a->call("keep", "alice-secret-123"));
  const State sa = state_of(*a);
  EXPECT_EQ(sa.secret, "alice-secret-123");
  EXPECT_EQ(sa.secret_len, 16u);
  EXPECT_EQ(sa.grown_page, 0x5Au | ('a' << 8));
  EXPECT_EQ(sa.var_secret, 16u);
  // Made after alice wrote: nothing of hers.
  auto b = make();
  State sb = state_of(*b);
  EXPECT_EQ(sb.secret, std::string(16, '\0'));
  EXPECT_EQ(sb.secret_len, 0u);
  EXPECT_EQ(sb.grown_page, 0x5Au);
  EXPECT_EQ(sb.var_secret, 0u);
  ASSERT_TRUE(b->call("keep", "bob"));
  sb = state_of(*b);
  EXPECT_EQ(sb.secret.substr(0, 4), std::string("bob\0", 4));
  // Bob's writes did not reach alice's pages, nor the prototype's.
  EXPECT_EQ(state_of(*a).secret, "alice-secret-123");
  EXPECT_EQ(state_of(**proto).secret, std::string(16, '\0'));
}

TEST(Snapshot, IsTakenAfterInitAndBeforeAnyCall) {
  SnapshotGuest guest;
  auto cold = Plugin::create(guest.manifest(), guest.options());
  ASSERT_TRUE(cold);
  auto not_warm = (*cold)->snapshot();
  ASSERT_FALSE(not_warm);
  EXPECT_NE(not_warm.error().message.find("warm()"), std::string::npos);
  ASSERT_TRUE((*cold)->call("keep", "secret"));
  auto called = (*cold)->snapshot();
  ASSERT_FALSE(called);
  EXPECT_NE(called.error().message.find("has been called"), std::string::npos)
      << called.error().message;
}

TEST(Snapshot, InitThatAsksForRandomBytesIsNotSnapshotted) {
  Manifest m;
  m.wasm.push_back(source_of("plugin_snapshot_random"));
  PluginOptions o;
  o.wasi = true;
  auto plugin = Plugin::create(m, o);
  ASSERT_TRUE(plugin) << plugin.error().message;
  ASSERT_TRUE((*plugin)->warm());
  auto refused = (*plugin)->snapshot();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("random_get"), std::string::npos)
      << refused.error().message;
}

TEST(Snapshot, IsRefusedByAPluginOfOtherModulesConfigOrLimits) {
  SnapshotGuest guest;
  auto proto = Plugin::create(guest.manifest(), guest.options());
  ASSERT_TRUE(proto);
  ASSERT_TRUE((*proto)->warm());
  auto snap = (*proto)->snapshot();
  ASSERT_TRUE(snap);
  // Other modules (the same bytes share one compiled module through the cache, so other bytes).
  Manifest other_manifest;
  other_manifest.wasm.push_back(source_of("plugin_snapshot_random"));
  PluginOptions other_options;
  other_options.wasi = true;
  auto other = Plugin::create(other_manifest, other_options);
  ASSERT_TRUE(other);
  auto e = (*other)->warm_from(**snap);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("other modules"), std::string::npos) << e.error().message;
  // Another config (init may have read it).
  auto configured = Plugin::create_like(**proto, guest.options());
  ASSERT_TRUE(configured);
  (*configured)->set_config({{"k", "v"}});
  e = (*configured)->warm_from(**snap);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("config"), std::string::npos) << e.error().message;
  // A memory quota smaller than what init left: refused, not overrun.
  PluginOptions small = guest.options();
  small.quota.memory_bytes = 2 * kPageSize;
  auto tight = Plugin::create_like(**proto, small);
  ASSERT_TRUE(tight);
  e = (*tight)->warm_from(**snap);
  ASSERT_FALSE(e);
  EXPECT_LE((*tight)->memory_bytes(), 2 * kPageSize);
  // Started already.
  auto twice = Plugin::create_like(**proto, guest.options());
  ASSERT_TRUE(twice);
  ASSERT_TRUE((*twice)->warm_from(**snap));
  EXPECT_FALSE((*twice)->warm_from(**snap));
}

}  // namespace
}  // namespace warden
