// libFuzzer target for the capability gate's untrusted-text parsers: tier policies and plugin
// documents (YAML), JSON schemas, and documents validated against a schema with patterns. No
// input may crash, hang, leak or read out of bounds; each must come back valid or refused.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/io_schema.h"
#include "policy/policy_document.h"

namespace {

const warden::policy::JsonSchema& patterned() {
  static const warden::policy::JsonSchema schema = *warden::policy::JsonSchema::parse(
      R"({"type":"object","properties":{"name":{"type":"string","pattern":"^[a-z]+(-[a-z]+)*$"},
          "tags":{"type":"array","items":{"$ref":"#/definitions/tag"}}},
          "definitions":{"tag":{"anyOf":[{"type":"string","maxLength":8},{"type":"integer"}]}}})",
      "fuzz.json");
  return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: (void)warden::policy::parse_tier_policy(text, "fuzz.yaml"); break;
    case 1: (void)warden::policy::parse_plugin_document(text, "fuzz.yaml"); break;
    case 2:
      if (auto schema = warden::policy::JsonSchema::parse(text, "fuzz.json"))
        (void)schema->validate(text, "input");
      break;
    case 3: (void)patterned().validate(text, "input"); break;
  }
  return 0;
}
