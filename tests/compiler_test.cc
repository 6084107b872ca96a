// The compiler's stack model: an instruction that pops without emitting code (drop) must not let
// the next consumer retarget or fuse with the instruction that wrote the dropped value. The guest
// is tests/testdata/dropped_producer.wat; every export is run with fuel off and on, because
// metering changes which handlers the compiler emits (a block's charge rides on producers).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "test_guest.h"
#include "vm/store.h"

namespace warden {
namespace {

using test::guest_bytes;

struct Case {
  const char* name;
  std::vector<Value> args;
  int32_t expected;
};

class DroppedProducer : public ::testing::TestWithParam<bool> {};

TEST_P(DroppedProducer, NextConsumerUsesTheEntryBelow) {
  EngineConfig config;
  config.fuel = GetParam();
  Engine engine(config);
  auto compiled = CompiledModule::compile(engine, guest_bytes("dropped_producer"));
  ASSERT_TRUE(compiled) << compiled.error().to_string();
  Store store(engine);
  if (config.fuel) store.set_fuel(1'000'000);
  Linker linker;
  auto instance = store.instantiate(*compiled, linker);
  ASSERT_TRUE(instance) << instance.error().message();
  const Case cases[] = {
      {"set_after_dropped_compare", {}, 7},
      {"tee_after_dropped_compare", {}, 7},
      {"set_after_dropped_binary", {Value::i32(21)}, 42},
      {"set_after_dropped_unary", {Value::i32(41)}, 42},
      {"set_after_dropped_load", {}, 11},
      {"set_after_dropped_select", {Value::i32(45)}, 42},
      {"set_after_dropped_global", {}, 17},
      {"set_after_dropped_is_null", {}, 19},
      {"set_after_two_drops", {Value::i32(41)}, 42},
      {"if_after_dropped_compare", {Value::i32(0)}, 20},
      {"if_after_dropped_compare", {Value::i32(5)}, 10},
      {"br_if_after_dropped_compare", {Value::i32(0)}, 40},
      {"br_if_after_dropped_compare", {Value::i32(5)}, 30},
      {"if_after_dropped_eqz", {Value::i32(0)}, 20},
      {"if_after_dropped_eqz", {Value::i32(3)}, 10},
      {"set_of_producer_itself", {Value::i32(37)}, 42},
      {"if_on_compare_itself", {Value::i32(2)}, 1},
      {"if_on_compare_itself", {Value::i32(3)}, 2},
  };
  for (const Case& c : cases) {
    auto r = store.call(**instance, c.name, c.args);
    ASSERT_TRUE(r) << c.name << ": " << r.error().message();
    ASSERT_EQ(r->size(), 1u) << c.name;
    EXPECT_EQ((*r)[0].as_i32(), c.expected) << c.name;
  }
  // A funcref producer dropped above a table.get: the local gets the table's entry, which calls.
  auto r = store.call(**instance, "set_after_dropped_ref_func", {});
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].type, ValType::FuncRef);
  EXPECT_FALSE((*r)[0].is_null());
}

INSTANTIATE_TEST_SUITE_P(Fuel, DroppedProducer, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "FuelOn" : "FuelOff"; });

}  // namespace
}  // namespace warden
