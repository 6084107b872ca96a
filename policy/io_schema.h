// JSON Schema (draft 7) checks of a plugin's input and output, on valijson. A schema comes from an
// operator's file and is checked at load: same-document $ref only (nothing is ever fetched), no
// $ref or allOf/anyOf/oneOf/not/if cycle that would apply a schema to the same value forever,
// patterns that compile, and a nesting bound for valijson's recursive parser. Documents are
// untrusted bytes: size, nesting and duplicate keys are checked before or while the DOM is built,
// and the recursion valijson would need for the document is bounded before it runs.
// docs/policy.md describes where the gate calls this.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "decoder/result.h"

namespace warden::policy {

// Why a schema could not be loaded; the message names the source and is safe to print.
struct SchemaError {
  std::string message;
};

class JsonSchema {
 public:
  static constexpr size_t kMaxSchemaBytes = size_t{4} << 20;
  static constexpr size_t kDefaultMaxDocumentBytes = size_t{16} << 20;
  // Arrays and objects nested deeper than this are refused before a DOM is built.
  static constexpr size_t kMaxDepth = 512;
  // libstdc++'s std::regex recurses per character: when the schema uses a regular expression
  // (pattern, patternProperties, format date/time/date-time), longer strings and keys are refused.
  static constexpr size_t kMaxRegexSubjectBytes = 4096;
  // The deepest chain of nested subschema applications valijson may recurse through.
  static constexpr size_t kMaxApplicationDepth = 2048;
  // Violations are listed only for documents of at most this many values (valijson collects every
  // violation, which a hostile document could multiply); larger ones get a one-line summary.
  static constexpr size_t kMaxDetailedValues = 20000;
  static constexpr size_t kMaxListedViolations = 3;

  // A draft-7 schema from a file (`path` names it in messages) or from text. Refused: an
  // unreadable file or one over kMaxSchemaBytes, invalid JSON, a $ref to anything but the same
  // document, a schema valijson cannot parse, a cycle of in-place subschemas, a bad pattern.
  [[nodiscard]] static Result<JsonSchema, SchemaError> load_file(const std::string& path);
  [[nodiscard]] static Result<JsonSchema, SchemaError> parse(std::string_view text,
                                                             std::string source_name);

  // nullopt when `document` is valid JSON that validates; otherwise one line a user can act on,
  // e.g. "input does not match schema.json: at /user/age: expected number greater than or equal
  // to 0, got -3". `subject` names the document in the message ("input", "output").
  // Duplicate keys in an object are refused (nlohmann would keep the last one, a plugin's parser
  // might keep the first: the two would disagree on what was validated).
  [[nodiscard]] std::optional<std::string> validate(std::string_view document) const;
  [[nodiscard]] std::optional<std::string> validate(std::string_view document,
                                                    std::string_view subject) const;

  const std::string& source() const { return source_; }
  size_t max_bytes() const { return max_bytes_; }
  void set_max_bytes(size_t max_bytes) { max_bytes_ = max_bytes; }

  struct Compiled;  // the valijson schema and the facts the load-time analysis found

 private:
  JsonSchema(std::shared_ptr<const Compiled> compiled, std::string source)
      : compiled_(std::move(compiled)), source_(std::move(source)) {}

  std::shared_ptr<const Compiled> compiled_;
  std::string source_;
  size_t max_bytes_ = kDefaultMaxDocumentBytes;
};

}  // namespace warden::policy
