// warden inspect FILE [--json]: what a module contains and which host capabilities it asks for.
// The report is built once as JSON; the text form is rendered from it.
#include <fmt/core.h>

#include <map>
#include <nlohmann/json.hpp>

#include "decoder/untrusted_text.h"
#include "tools/cli.h"
#include "tools/command_line.h"

namespace warden::cli {
namespace {

using nlohmann::json;

constexpr const char* kHelp = R"(usage: warden inspect FILE [--json]

Shows what a WebAssembly module contains: the host capabilities it requests (every
import, grouped by module), sections with offsets and sizes, imports and exports with
their types, memories and tables with limits, function, global, element and data
counts, the start function, custom sections and names from the name section.
The module is validated first; if it is not valid, prints the error as
`FILE:0xOFFSET: error: MESSAGE` and exits 1.

options:
  --json       print one JSON document instead (keys are listed in docs/cli.md)
  -h, --help   show this help
)";

// The text form lists this many function names; --json has them all.
constexpr size_t kMaxNamesShown = 20;

json limits_json(const Limits& limits) {
  return {{"min", limits.min}, {"max", limits.max ? json(*limits.max) : json(nullptr)}};
}

std::string limits_text(const json& j) {
  return j["max"].is_null()
             ? fmt::format("min {}, no max", j["min"].get<uint64_t>())
             : fmt::format("min {}, max {}", j["min"].get<uint64_t>(), j["max"].get<uint64_t>());
}

// The type of an import or export, as text: "(i32) -> ()", "funcref min 1, no max", "mut i32".
json extern_type(const Module& m, ExternKind kind, uint32_t index) {
  switch (kind) {
    case ExternKind::Func: return to_string(m.func_type(FuncIdx(index)));
    case ExternKind::Table:
      return std::string(valtype_name(m.tables[index].element)) + " " +
             limits_text(limits_json(m.tables[index].limits));
    case ExternKind::Memory: return "pages " + limits_text(limits_json(m.memories[index].limits));
    case ExternKind::Global:
      return std::string(m.globals[index].is_mutable ? "mut " : "") +
             std::string(valtype_name(m.globals[index].type));
  }
  return "";
}

json imports_json(const Module& m, json& capabilities) {
  json imports = json::array();
  uint32_t next[4] = {0, 0, 0, 0};  // index within each kind's index space
  for (const Import& im : m.imports) {
    const uint32_t index = next[static_cast<int>(im.kind)]++;
    imports.push_back({{"module", im.module},
                       {"name", im.name},
                       {"kind", extern_kind_name(im.kind)},
                       {"index", index},
                       {"type", extern_type(m, im.kind, index)}});
    capabilities[im.module].push_back(im.name);
  }
  return imports;
}

json segments_json(const Module& m) {
  std::map<std::string, int> elems{{"active", 0}, {"passive", 0}, {"declarative", 0}};
  for (const ElemSegment& seg : m.elems) {
    ++elems[seg.mode == SegmentMode::Active    ? "active"
            : seg.mode == SegmentMode::Passive ? "passive"
                                               : "declarative"];
  }
  std::map<std::string, int> datas{{"active", 0}, {"passive", 0}};
  for (const DataSegment& seg : m.datas)
    ++datas[seg.mode == SegmentMode::Active ? "active" : "passive"];
  return {{"elements", elems}, {"data", datas}};
}

json report(const std::string& file, const Module& m) {
  json capabilities = json::object();
  json r;
  r["file"] = file;
  r["size"] = m.bytes.size();
  r["imports"] = imports_json(m, capabilities);
  r["capabilities"] = capabilities;
  r["sections"] = json::array();
  r["custom_sections"] = json::array();
  for (const SectionInfo& s : m.sections) {
    json entry = {{"id", static_cast<int>(s.id)},
                  {"name", section_name(s.id)},
                  {"offset", s.header_offset},
                  {"size", s.payload.size}};
    if (s.id == SectionId::Custom) {
      entry["custom_name"] = s.custom_name;
      r["custom_sections"].push_back(s.custom_name);
    }
    r["sections"].push_back(entry);
  }
  r["types"] = m.types.size();
  r["exports"] = json::array();
  for (const Export& ex : m.exports) {
    r["exports"].push_back({{"name", ex.name},
                            {"kind", extern_kind_name(ex.kind)},
                            {"index", ex.index},
                            {"type", extern_type(m, ex.kind, ex.index)}});
  }
  r["functions"] = {{"imported", m.functions_imported},
                    {"defined", m.functions.size() - m.functions_imported}};
  r["globals"] = {{"imported", m.globals_imported},
                  {"defined", m.globals.size() - m.globals_imported}};
  r["memories"] = json::array();
  for (uint32_t i = 0; i < m.memories.size(); ++i) {
    json mem = limits_json(m.memories[i].limits);
    mem["index"] = i;
    mem["imported"] = i < m.memories_imported;
    r["memories"].push_back(mem);
  }
  r["tables"] = json::array();
  for (uint32_t i = 0; i < m.tables.size(); ++i) {
    json table = limits_json(m.tables[i].limits);
    table["index"] = i;
    table["element"] = valtype_name(m.tables[i].element);
    table["imported"] = i < m.tables_imported;
    r["tables"].push_back(table);
  }
  r["start"] = m.start ? json(m.start->value) : json(nullptr);
  r["segments"] = segments_json(m);
  std::map<uint32_t, std::string> names(m.names.function_names.begin(),
                                        m.names.function_names.end());
  r["function_names"] = json::array();
  for (const auto& [index, name] : names) {
    r["function_names"].push_back({{"index", index}, {"name", name}});
  }
  if (m.names.module_name) r["module_name"] = *m.names.module_name;
  return r;
}

// Every name in a module is the module author's text: escaped before it reaches the terminal, so
// a crafted import name cannot erase the line that shows a capability.
std::string text(const json& j) { return escape_untrusted(j.get<std::string>()); }

void print_text(const json& r) {
  fmt::print("{}: {} bytes, valid\n", text(r["file"]), r["size"].get<size_t>());
  fmt::print("\nhost capabilities requested (imports by module):\n");
  if (r["capabilities"].empty()) fmt::print("  none: the module imports nothing\n");
  for (const auto& [module, names] : r["capabilities"].items()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + text(n);
    fmt::print("  {}: {}\n", escape_untrusted(module), list);
  }
  fmt::print("\nsections:\n");
  for (const auto& s : r["sections"]) {
    fmt::print("  {:<11} offset 0x{:<6x} size {:>8}{}\n", s["name"].get<std::string>(),
               s["offset"].get<uint32_t>(), s["size"].get<uint32_t>(),
               s.contains("custom_name")
                   ? "  " + quote_untrusted(s["custom_name"].get<std::string>())
                   : std::string());
  }
  fmt::print("\nimports ({}):\n", r["imports"].size());
  for (const auto& im : r["imports"]) {
    fmt::print("  {:<7} {}.{}  {}\n", im["kind"].get<std::string>(), text(im["module"]),
               text(im["name"]), im["type"].get<std::string>());
  }
  fmt::print("\nexports ({}):\n", r["exports"].size());
  for (const auto& ex : r["exports"]) {
    fmt::print("  {:<7} {}  #{}  {}\n", ex["kind"].get<std::string>(), text(ex["name"]),
               ex["index"].get<uint32_t>(), ex["type"].get<std::string>());
  }
  fmt::print("\nfunctions: {} imported, {} defined; types: {}\n",
             r["functions"]["imported"].get<uint32_t>(), r["functions"]["defined"].get<size_t>(),
             r["types"].get<size_t>());
  for (const auto& mem : r["memories"]) {
    fmt::print("memory #{}: pages {}{}\n", mem["index"].get<uint32_t>(), limits_text(mem),
               mem["imported"].get<bool>() ? " (imported)" : "");
  }
  for (const auto& t : r["tables"]) {
    fmt::print("table #{}: {} {}{}\n", t["index"].get<uint32_t>(), t["element"].get<std::string>(),
               limits_text(t), t["imported"].get<bool>() ? " (imported)" : "");
  }
  fmt::print("globals: {} imported, {} defined\n", r["globals"]["imported"].get<uint32_t>(),
             r["globals"]["defined"].get<size_t>());
  if (r["start"].is_null()) {
    fmt::print("start: none\n");
  } else {
    fmt::print("start: #{}\n", r["start"].get<uint32_t>());
  }
  const auto& e = r["segments"]["elements"];
  const auto& d = r["segments"]["data"];
  fmt::print("element segments: {} active, {} passive, {} declarative\n", e["active"].get<int>(),
             e["passive"].get<int>(), e["declarative"].get<int>());
  fmt::print("data segments: {} active, {} passive\n", d["active"].get<int>(),
             d["passive"].get<int>());
  const auto& names = r["function_names"];
  if (!names.empty()) {
    fmt::print("\nfunction names (name section):\n");
    size_t shown = 0;
    for (const auto& entry : names) {
      if (shown++ == kMaxNamesShown) break;
      fmt::print("  #{:<5} {}\n", entry["index"].get<uint32_t>(), text(entry["name"]));
    }
    if (names.size() > kMaxNamesShown) {
      fmt::print("  ... {} more (all of them with --json)\n", names.size() - kMaxNamesShown);
    }
  }
}

}  // namespace

int inspect_command(const std::vector<std::string>& args) {
  bool as_json = false;
  CommandLine cl("inspect", kHelp);
  cl.app.add_flag("--json", as_json);
  auto parsed = cl.parse(args);
  if (parsed.exit_status) return *parsed.exit_status;
  const std::vector<std::string>& files = parsed.positionals;
  if (files.size() != 1) return usage_error("inspect", "expected exactly one FILE");
  std::vector<uint8_t> bytes;
  if (!read_file(files[0], bytes)) return kExitFailure;
  auto loaded = load_module(bytes);
  if (!loaded) {
    fmt::print(stderr, "{}\n", format_load_error(files[0], loaded.error()));
    return kExitFailure;
  }
  const json r = report(files[0], *loaded);
  if (as_json) {
    // Names are valid UTF-8 (the decoder checks), the file name need not be: its invalid bytes
    // become U+FFFD instead of an exception.
    fmt::print("{}\n", r.dump(2, ' ', false, json::error_handler_t::replace));
  } else {
    print_text(r);
  }
  return kExitOk;
}

}  // namespace warden::cli
