// The test guests built from tests/testdata/*.wat (and wasi/, C and Go guests) at build time.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace warden::test {

// The bytes of WARDEN_TEST_DATA/NAME.wasm ("dropped_producer", "wasi/abi"); a missing file fails
// the test that asked.
inline std::vector<uint8_t> guest_bytes(const std::string& name) {
  std::ifstream in(std::string(WARDEN_TEST_DATA) + "/" + name + ".wasm", std::ios::binary);
  EXPECT_TRUE(in) << "no test guest " << name << ".wasm";
  return {std::istreambuf_iterator<char>(in), {}};
}

// The bytes of an example plugin, WARDEN_PLUGINS/NAME.wasm (examples/plugins/NAME.c).
inline std::vector<uint8_t> example_plugin_bytes(const std::string& name) {
  std::ifstream in(std::string(WARDEN_PLUGINS) + "/" + name + ".wasm", std::ios::binary);
  EXPECT_TRUE(in) << "no example plugin " << name << ".wasm";
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace warden::test
