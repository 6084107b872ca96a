// JSON Schema checks of plugin I/O (policy/io_schema.h): the official JSON-Schema-Test-Suite's
// draft-7 cases (Debian's json-schema-test-suite, or $WARDEN_JSON_SCHEMA_SUITE), then hostile
// documents and schemas.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "policy/io_schema.h"

namespace warden::policy {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path suite_dir() {
  if (const char* env = std::getenv("WARDEN_JSON_SCHEMA_SUITE")) return env;
  return "/usr/share/json-schema-test-suite";
}

// Groups whose schema is refused at load by design: a $ref that is not a JSON pointer into the
// same document (a remote or relative URI: nothing is ever fetched; or an $id-named location).
bool refused_by_design(const json& node) {
  if (node.is_object()) {
    if (auto it = node.find("$ref"); it != node.end() && it->is_string()) {
      const std::string ref = it->get<std::string>();
      if (ref != "#" && !ref.starts_with("#/")) return true;
    }
    for (const auto& [key, value] : node.items())
      if (key != "enum" && key != "const" && refused_by_design(value)) return true;
  } else if (node.is_array()) {
    for (const json& item : node)
      if (refused_by_design(item)) return true;
  }
  return false;
}

TEST(JsonSchemaSuite, Draft7) {
  const fs::path dir = suite_dir() / "tests" / "draft7";
  ASSERT_TRUE(fs::is_directory(dir))
      << dir << " is missing: install json-schema-test-suite (scripts/install-deps.sh does)";
  size_t passed = 0, failed = 0, refused = 0;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::ifstream in(file);
    const json groups = json::parse(in);
    for (const json& group : groups) {
      const std::string id =
          file.filename().string() + ": " + group.at("description").get<std::string>();
      auto schema = JsonSchema::parse(group.at("schema").dump(), id);
      if (!schema) {
        EXPECT_TRUE(refused_by_design(group.at("schema")))
            << id << ": refused at load: " << schema.error().message;
        refused += group.at("tests").size();
        continue;
      }
      for (const json& test : group.at("tests")) {
        const bool valid = !schema->validate(test.at("data").dump(), "data");
        const bool expected = test.at("valid").get<bool>();
        if (valid == expected) {
          ++passed;
        } else {
          ++failed;
          ADD_FAILURE() << id << " / " << test.at("description").get<std::string>() << ": expected "
                        << (expected ? "valid" : "invalid");
        }
      }
    }
  }
  std::printf(
      "JSON-Schema-Test-Suite draft7: %zu passed, %zu failed, %zu refused at load (remote, "
      "relative or $id refs)\n",
      passed, failed, refused);
  EXPECT_GT(passed, 350u);  // the suite was found and read (draft7 has ~420 cases)
}

JsonSchema schema(std::string_view text) {
  auto s = JsonSchema::parse(text, "test.json");
  EXPECT_TRUE(s) << s.error().message;
  return std::move(*s);
}

TEST(JsonSchema, MessagesNameThePathAndTheReason) {
  JsonSchema s = schema(R"({"type":"object","properties":{"user":{"type":"object",
      "properties":{"age":{"type":"integer","minimum":0}}}}})");
  EXPECT_EQ(s.validate(R"({"user":{"age":3}})", "input"), std::nullopt);
  auto why = s.validate(R"({"user":{"age":-3}})", "input");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->rfind("input does not match test.json: at /user/age: ", 0), 0u) << *why;
}

TEST(JsonSchema, DeepNestingIsRefusedBeforeADomIsBuilt) {
  JsonSchema s = schema(R"({})");
  auto why = s.validate(std::string(100000, '['), "input");
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "input is nested deeper than 512 levels");
  // Brackets inside strings do not count.
  std::string quoted(100002,
                     '[');  // built in place: `"\"" + std::string` trips GCC 12's -Wrestrict
  quoted.front() = quoted.back() = '"';
  EXPECT_EQ(s.validate(quoted), std::nullopt);
}

TEST(JsonSchema, GarbageOversizeAndInvalidUtf8AreRefused) {
  JsonSchema s = schema(R"({})");
  std::string garbage(1 << 20, '\x01');
  auto why = s.validate(garbage, "input");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->rfind("input is not valid JSON: ", 0), 0u);
  s.set_max_bytes(100);
  why = s.validate(std::string(101, ' '), "output");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->rfind("output of 101 bytes is over the limit of 100", 0), 0u) << *why;
  s.set_max_bytes(JsonSchema::kDefaultMaxDocumentBytes);
  why = s.validate("\"\xff\xfe\"", "input");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->find('\xff'), std::string::npos) << "the bytes are escaped";
}

TEST(JsonSchema, TerminalEscapesInTheDocumentAreEscapedInTheMessage) {
  JsonSchema s = schema(R"({"type":"object","additionalProperties":false})");
  auto why = s.validate("{\"\\u001b[2J\\u001b[Hfake\":1}", "output");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->find('\x1b'), std::string::npos) << *why;
}

TEST(JsonSchema, DuplicateKeysAreRefused) {
  JsonSchema s = schema(R"({"properties":{"role":{"const":"user"}}})");
  auto why = s.validate(R"({"role":"user","role":"admin"})", "input");
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "input is refused: duplicate key \"role\"");
}

TEST(JsonSchema, HugeNumbersAndManyViolations) {
  JsonSchema s = schema(R"({"type":"array","items":{"type":"integer","maximum":10}})");
  EXPECT_TRUE(s.validate("[1" + std::string(400, '0') + "]"));
  std::string many = "[";
  for (int i = 0; i < 100; ++i) many += (i ? ",99" : "99");
  many += "]";
  auto why = s.validate(many, "input");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("more"), std::string::npos) << *why;
  EXPECT_LE(why->size(), 2100u);
}

TEST(JsonSchema, SchemasThatCouldNeverFinishOrFetchAreRefusedAtLoad) {
  for (const char* text : {R"({"$ref":"#"})", R"({"allOf":[{"$ref":"#"}]})",
                           R"({"definitions":{"a":{"$ref":"#/definitions/b"},
                               "b":{"anyOf":[{"$ref":"#/definitions/a"}]}},
                               "$ref":"#/definitions/a"})"}) {
    auto s = JsonSchema::parse(text, "cycle.json");
    ASSERT_FALSE(s) << text;
    EXPECT_NE(s.error().message.find("cycle"), std::string::npos) << s.error().message;
  }
  // A recursive schema that moves to a child value each time is fine (a tree).
  EXPECT_TRUE(JsonSchema::parse(R"({"type":"object","properties":{"kids":{"type":"array",
      "items":{"$ref":"#"}}}})",
                                "tree.json"));
  auto remote = JsonSchema::parse(R"({"$ref":"http://127.0.0.1:1/evil.json"})", "r.json");
  ASSERT_FALSE(remote);
  EXPECT_NE(remote.error().message.find("nothing is fetched"), std::string::npos);
  auto dangling = JsonSchema::parse(R"({"$ref":"#/definitions/none"})", "d.json");
  ASSERT_FALSE(dangling);
  auto bad_pattern = JsonSchema::parse(R"({"pattern":"(unclosed"})", "p.json");
  ASSERT_FALSE(bad_pattern);
  EXPECT_NE(bad_pattern.error().message.find("does not compile"), std::string::npos);
  EXPECT_FALSE(JsonSchema::parse("{not json", "bad.json"));
  EXPECT_FALSE(JsonSchema::parse("[1,2]", "array.json"));
  auto missing = JsonSchema::load_file("/nonexistent/schema.json");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot read"), std::string::npos);
}

TEST(JsonSchema, LongStringsAreRefusedWhenTheSchemaUsesARegex) {
  // libstdc++'s std::regex recurses per character: a long subject could exhaust the stack.
  JsonSchema s = schema(R"({"type":"string","pattern":"^(a|b)*$"})");
  EXPECT_EQ(s.validate("\"abab\""), std::nullopt);
  auto why = s.validate("\"" + std::string(100000, 'a') + "\"", "input");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("patterns allows"), std::string::npos) << *why;
}

}  // namespace
}  // namespace warden::policy
