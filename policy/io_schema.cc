#include "policy/io_schema.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <vector>

#include "decoder/untrusted_text.h"

namespace warden::policy {

using json = nlohmann::json;

struct JsonSchema::Compiled {
  valijson::Schema schema;
  bool uses_regex = false;  // pattern, patternProperties, or a date/time format
};

namespace {

constexpr size_t kQuoted = 200;       // bytes of untrusted text quoted in a message
constexpr size_t kMaxMessage = 2048;  // the whole message

// The deepest [ / { nesting of JSON text, ignoring brackets inside strings; stops counting past
// `limit`. A cheap pass before any DOM is built.
size_t nesting_depth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Parses untrusted JSON: refuses duplicate keys (a plugin's parser might keep the other one),
// strings and keys over `max_string` bytes (when set), and counts the values.
struct Parsed {
  json value;
  size_t values = 0;
  std::string error;  // empty: parsed
};
Parsed parse_untrusted(std::string_view text, size_t max_string) {
  Parsed out;
  std::vector<std::set<std::string>> keys;  // one per open object
  std::string problem;
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: keys.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        ++out.values;
        break;
      case json::parse_event_t::key: {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (problem.empty() && max_string && key.size() > max_string)
          problem = "a key of " + std::to_string(key.size()) + " bytes is over the " +
                    std::to_string(max_string) + " a schema with patterns allows";
        if (problem.empty() && !keys.empty() && !keys.back().insert(key).second)
          problem = "duplicate key " + quote_untrusted(key, kQuoted);
        break;
      }
      case json::parse_event_t::value:
        ++out.values;
        if (problem.empty() && max_string && parsed.is_string() &&
            parsed.get_ref<const std::string&>().size() > max_string)
          problem = "a string of " + std::to_string(parsed.get_ref<const std::string&>().size()) +
                    " bytes is over the " + std::to_string(max_string) +
                    " a schema with patterns allows";
        break;
      default: break;
    }
    return problem.empty();  // once refused, keep nothing more
  };
  try {
    out.value = json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    out.error = "is not valid JSON: " + escape_untrusted(e.what(), kQuoted);
    return out;
  }
  if (!problem.empty()) out.error = "is refused: " + problem;
  return out;
}

// A JSON pointer of a same-document $ref ("#", "#/definitions/a"), as path tokens; nullopt for
// anything else.
std::optional<std::vector<std::string>> local_ref(const std::string& ref) {
  if (ref.empty() || ref[0] != '#') return std::nullopt;
  std::vector<std::string> tokens;
  if (ref.size() == 1) return tokens;
  if (ref[1] != '/') return std::nullopt;  // "#anchor": a plain-name fragment
  std::string token;
  for (size_t i = 2; i <= ref.size(); ++i) {
    if (i == ref.size() || ref[i] == '/') {
      tokens.push_back(token);
      token.clear();
      continue;
    }
    char c = ref[i];
    if (c == '~' && i + 1 < ref.size()) {
      c = ref[i + 1] == '1' ? '/' : '~';
      ++i;
    } else if (c == '%' && i + 2 < ref.size()) {
      c = static_cast<char>(std::stoi(ref.substr(i + 1, 2), nullptr, 16));
      i += 2;
    }
    token += c;
  }
  return tokens;
}

const json* resolve(const json& root, const std::vector<std::string>& tokens) {
  const json* node = &root;
  for (const std::string& t : tokens) {
    if (node->is_object()) {
      auto it = node->find(t);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos) return nullptr;
      const size_t i = std::stoul(t);
      if (i >= node->size()) return nullptr;
      node = &(*node)[i];
    } else {
      return nullptr;
    }
  }
  return node;
}

// Load-time analysis of a schema: every $ref local and resolvable, every pattern compiles, and no
// cycle of subschemas applied to the same value (through $ref, allOf, anyOf, oneOf, not, if,
// then, else), which would recurse forever. Keywords that move to a child value (properties,
// items, ...) end a chain: their recursion is bounded by the document's depth.
class SchemaCheck {
 public:
  explicit SchemaCheck(const json& root) : root_(root) {}
  std::string error;
  bool uses_regex = false;

  bool run() {
    walk(root_, 0);
    if (!error.empty()) return false;
    // Every schema object is a node of the in-place graph; a cycle in it never ends.
    std::map<const json*, int> state;  // 1: on the DFS path, 2: done
    for (const json* node : objects_)
      if (!acyclic(node, state, 0)) return false;
    return true;
  }

 private:
  // Every subschema: refs and patterns.
  void walk(const json& node, size_t depth) {
    if (!error.empty() || depth > JsonSchema::kMaxDepth) return;
    if (node.is_array()) {
      for (const json& item : node) walk(item, depth + 1);
      return;
    }
    if (!node.is_object()) return;
    objects_.push_back(&node);
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string& key = it.key();
      if (key == "enum" || key == "const" || key == "default" || key == "examples") continue;
      if (key == "$ref" && it->is_string()) {
        const std::string& ref = it->get_ref<const std::string&>();
        auto tokens = local_ref(ref);
        if (!tokens) {
          error = "$ref " + quote_untrusted(ref, kQuoted) +
                  " is not a JSON pointer into this document (nothing is fetched)";
          return;
        }
        if (!resolve(root_, *tokens)) {
          error = "$ref " + quote_untrusted(ref, kQuoted) + " points at nothing";
          return;
        }
      } else if (key == "pattern" && it->is_string()) {
        compiles(it->get_ref<const std::string&>());
      } else if (key == "patternProperties" && it->is_object()) {
        for (auto p = it->begin(); p != it->end(); ++p) compiles(p.key());
      } else if (key == "format" && it->is_string()) {
        const std::string& f = it->get_ref<const std::string&>();
        uses_regex |= f == "date" || f == "time" || f == "date-time";
      }
      walk(*it, depth + 1);
    }
  }
  void compiles(const std::string& pattern) {
    uses_regex = true;
    try {
      std::regex re(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      if (error.empty())
        error = "pattern " + quote_untrusted(pattern, kQuoted) + " does not compile";
    }
  }
  // The subschemas `node` applies to its own value.
  std::vector<const json*> in_place(const json& node) const {
    std::vector<const json*> out;
    if (!node.is_object()) return out;
    if (auto it = node.find("$ref"); it != node.end() && it->is_string())
      if (auto tokens = local_ref(it->get_ref<const std::string&>()))
        if (const json* target = resolve(root_, *tokens)) out.push_back(target);
    for (const char* key : {"allOf", "anyOf", "oneOf"})
      if (auto it = node.find(key); it != node.end() && it->is_array())
        for (const json& s : *it) out.push_back(&s);
    for (const char* key : {"not", "if", "then", "else"})
      if (auto it = node.find(key); it != node.end()) out.push_back(&*it);
    return out;
  }
  bool acyclic(const json* node, std::map<const json*, int>& state, size_t depth) {
    int& s = state[node];
    if (s == 2) return true;
    if (s == 1) {
      error =
          "a cycle of $ref / allOf / anyOf / oneOf / not / if applies a schema to the same "
          "value forever";
      return false;
    }
    if (depth > JsonSchema::kMaxApplicationDepth) {
      error = "subschemas apply in place deeper than " +
              std::to_string(JsonSchema::kMaxApplicationDepth) + " levels";
      return false;
    }
    s = 1;
    for (const json* next : in_place(*node))
      if (!acyclic(next, state, depth + 1)) return false;
    state[node] = 2;
    return true;
  }

  std::vector<const json*> objects_;
  const json& root_;
};

// valijson's context ("<root>", "[user]", "[0]") as a JSON pointer ("/user/0").
std::string pointer_of(const std::vector<std::string>& context) {
  std::string out;
  for (const std::string& part : context) {
    if (part == "<root>") continue;
    std::string token = part;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']')
      token = token.substr(1, token.size() - 2);
    if (token.size() >= 2 && token.front() == '"' && token.back() == '"')
      token = token.substr(1, token.size() - 2);
    out += "/" + token;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

Result<JsonSchema, SchemaError> JsonSchema::load_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Failure{
        SchemaError{"schema " + escape_untrusted(path) + ": cannot read: " + std::strerror(errno)}};
  if (!S_ISREG(st.st_mode))
    return Failure{SchemaError{"schema " + escape_untrusted(path) + ": not a regular file"}};
  if (static_cast<uint64_t>(st.st_size) > kMaxSchemaBytes)
    return Failure{SchemaError{"schema " + escape_untrusted(path) + ": " +
                               std::to_string(st.st_size) + " bytes is over the limit of " +
                               std::to_string(kMaxSchemaBytes)}};
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Failure{
        SchemaError{"schema " + escape_untrusted(path) + ": cannot read: " + std::strerror(errno)}};
  std::string text{std::istreambuf_iterator<char>(in), {}};
  return parse(text, path);
}

Result<JsonSchema, SchemaError> JsonSchema::parse(std::string_view text, std::string source_name) {
  const std::string name = escape_untrusted(source_name, kQuoted);
  auto fail = [&](const std::string& why) {
    return Failure{SchemaError{"schema " + name + ": " + why}};
  };
  if (text.size() > kMaxSchemaBytes)
    return fail(std::to_string(text.size()) + " bytes is over the limit of " +
                std::to_string(kMaxSchemaBytes));
  if (nesting_depth(text, kMaxDepth) > kMaxDepth)
    return fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
  Parsed parsed = parse_untrusted(text, 0);
  if (!parsed.error.empty()) return fail(parsed.error);
  if (!parsed.value.is_object() && !parsed.value.is_boolean())
    return fail("a schema is an object or a boolean");
  SchemaCheck check(parsed.value);
  if (!check.run()) return fail(check.error);
  auto compiled = std::make_shared<Compiled>();
  compiled->uses_regex = check.uses_regex;
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(parsed.value);
    parser.populateSchema(adapter, compiled->schema);
  } catch (const std::exception& e) {
    return fail("not a draft-7 schema valijson accepts: " + escape_untrusted(e.what(), kQuoted));
  }
  return JsonSchema(std::move(compiled), std::move(source_name));
}

std::optional<std::string> JsonSchema::validate(std::string_view document) const {
  return validate(document, "the document");
}

std::optional<std::string> JsonSchema::validate(std::string_view document,
                                                std::string_view subject) const {
  const std::string who(subject);
  if (document.size() > max_bytes_)
    return who + " of " + std::to_string(document.size()) + " bytes is over the limit of " +
           std::to_string(max_bytes_) + " for schema " + escape_untrusted(source_, kQuoted);
  if (nesting_depth(document, kMaxDepth) > kMaxDepth)
    return who + " is nested deeper than " + std::to_string(kMaxDepth) + " levels";
  Parsed parsed = parse_untrusted(document, compiled_->uses_regex ? kMaxRegexSubjectBytes : 0);
  if (!parsed.error.empty()) return who + " " + parsed.error;
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(parsed.value);
  const std::string prefix = who + " does not match " + escape_untrusted(source_, kQuoted);
  try {
    if (parsed.values > kMaxDetailedValues) {
      if (validator.validate(compiled_->schema, target, nullptr)) return std::nullopt;
      return prefix;
    }
    valijson::ValidationResults results;
    if (validator.validate(compiled_->schema, target, &results)) return std::nullopt;
    // valijson lists the outer failures (allOf, properties) before the one that caused them: the
    // deepest violations say most, so those are shown first.
    std::vector<valijson::ValidationResults::Error> errors;
    valijson::ValidationResults::Error error;
    while (results.popError(error)) errors.push_back(error);
    std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
      return a.context.size() > b.context.size();
    });
    std::string message = prefix;
    const size_t shown = std::min(errors.size(), kMaxListedViolations);
    for (size_t i = 0; i < shown; ++i)
      message += (i ? "; " : ": ") + std::string("at ") +
                 escape_untrusted(pointer_of(errors[i].context), kQuoted) + ": " +
                 escape_untrusted(errors[i].description, kQuoted);
    if (errors.size() > shown)
      message += "; and " + std::to_string(errors.size() - shown) + " more";
    if (message.size() > kMaxMessage) {
      size_t cut = kMaxMessage;  // never inside a UTF-8 sequence
      while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
      message = message.substr(0, cut) + " [truncated]";
    }
    return message;
  } catch (const std::exception& e) {
    return who + " could not be checked against " + escape_untrusted(source_, kQuoted) + ": " +
           escape_untrusted(e.what(), kQuoted);
  }
}

}  // namespace warden::policy
