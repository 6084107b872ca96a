// The module decoder: header, then sections in order. Each section has one reader function;
// each reads from a ByteReader bounded to its section, so nothing reads past a section's end.
#include "decoder/module_decoder.h"

#include <string>

#include "decoder/byte_reader.h"
#include "decoder/instruction_reader.h"
#include "decoder/limits.h"
#include "decoder/name_section.h"

namespace warden {
namespace {

constexpr uint32_t kMagic = 0x6D736100;  // "\0asm"

// Reads `count` entries with read_one(entry), growing `out` as they arrive: memory stays
// proportional to the bytes actually present, whatever the count claims.
template <class T, class ReadOne>
bool read_entries(ByteReader& r, uint32_t count, std::vector<T>& out, ReadOne read_one) {
  out.reserve(out.size() + r.reserve_for(count));
  for (uint32_t i = 0; i < count; ++i) {
    if (!read_one(out.emplace_back())) return false;
  }
  return true;
}
constexpr uint32_t kVersion = 1;

class ModuleDecoder {
 public:
  ModuleDecoder(std::span<const uint8_t> bytes, const Features& features, DecodeOptions options)
      : features_(features), options_(options) {
    module_.bytes.assign(bytes.begin(), bytes.end());
  }

  Result<Module, DecodeError> run();

 private:
  bool read_header(ByteReader& r);
  bool read_section(ByteReader& r);
  bool read_section_payload(SectionId id, ByteReader& r);
  bool check_order(SectionId id, uint64_t at, ByteReader& r);
  bool finish(ByteReader& r);

  bool read_type_section(ByteReader& r);
  bool read_import_section(ByteReader& r);
  bool read_function_section(ByteReader& r);
  bool read_table_section(ByteReader& r);
  bool read_memory_section(ByteReader& r);
  bool read_global_section(ByteReader& r);
  bool read_export_section(ByteReader& r);
  bool read_start_section(ByteReader& r);
  bool read_element_section(ByteReader& r);
  bool read_data_count_section(ByteReader& r);
  bool read_code_section(ByteReader& r);
  bool read_data_section(ByteReader& r);
  bool read_custom_section(ByteReader& r, SectionInfo& info);

  bool read_func_type(ByteReader& r, FuncType& out);
  bool read_valtype(ByteReader& r, ValType& out);
  bool read_reftype(ByteReader& r, ValType& out);
  bool read_limits(ByteReader& r, Limits& out, uint64_t max_min, const char* what);
  bool read_table_type(ByteReader& r, TableType& out);
  bool read_memory_type(ByteReader& r, MemoryType& out);
  bool read_global_type(ByteReader& r, GlobalType& out);
  bool read_elem_segment(ByteReader& r, ElemSegment& out);
  bool read_data_segment(ByteReader& r, DataSegment& out);
  bool read_const_expr(ByteReader& r, ConstExpr& out);
  bool read_function_body(ByteReader& r, FunctionBody& out, uint64_t section_end);
  bool read_locals(ByteReader& r, FunctionBody& out);
  bool scan_code(ByteReader& r, uint64_t body_end, uint64_t section_end, bool is_body);
  bool add_function(ByteReader& r, TypeIdx type);

  std::span<const uint8_t> span_of(uint64_t offset, size_t size) const {
    return {module_.bytes.data() + offset, size};
  }

  Module module_;
  const Features& features_;
  DecodeOptions options_;
  SectionId section_ = SectionId::None;
  uint32_t index_ = kNoIndex;
  int last_order_ = 0;
  SectionId last_id_ = SectionId::None;
  std::optional<uint32_t> declared_functions_;
  bool saw_code_ = false;
  uint64_t code_count_offset_ = 0;
  bool saw_data_ = false;
};

Result<Module, DecodeError> ModuleDecoder::run() {
  ByteReader r(module_.bytes);
  bool ok = module_.bytes.size() <= limits::kMaxModuleSize
                ? read_header(r)
                : r.fail_at(0, DecodeErrorCode::ImplementationLimit,
                            "module of " + std::to_string(module_.bytes.size()) + " bytes");
  while (ok && !r.at_end()) ok = read_section(r);
  if (ok) ok = finish(r);
  if (!ok) {
    DecodeError error = r.error();
    error.section = section_;
    error.index = index_;
    return Failure{std::move(error)};
  }
  return std::move(module_);
}

bool ModuleDecoder::read_header(ByteReader& r) {
  // A header cut short is "unexpected end" (at the end of the file), as the spec suite says.
  uint32_t magic = 0, version = 0;
  if (!r.read_fixed_u32(magic)) return false;
  if (magic != kMagic) return r.fail_at(0, DecodeErrorCode::MagicMismatch);
  if (!r.read_fixed_u32(version)) return false;
  if (version != kVersion) {
    return r.fail_at(4, DecodeErrorCode::VersionMismatch, "version " + std::to_string(version));
  }
  return true;
}

bool ModuleDecoder::read_section(ByteReader& r) {
  const uint64_t header = r.offset();
  section_ = SectionId::None;
  index_ = kNoIndex;
  uint8_t id;
  uint32_t size;
  if (!r.read_u8(id)) return false;
  if (id > kMaxSectionId) {
    return r.fail_at(header, DecodeErrorCode::MalformedSectionId, "id " + std::to_string(id));
  }
  section_ = SectionId(id);
  const uint64_t size_at = r.offset();
  if (!r.read_u32(size)) return false;
  if (size > r.remaining()) {
    return r.fail_at(size_at, DecodeErrorCode::LengthOutOfBounds,
                     std::string(section_name(section_)) + " section size " + std::to_string(size) +
                         " exceeds the " + std::to_string(r.remaining()) +
                         " bytes left in the module");
  }
  if (!check_order(section_, header, r)) return false;
  SectionInfo info{
      section_, static_cast<uint32_t>(header), {static_cast<uint32_t>(r.offset()), size}, {}};
  ByteReader payload;
  if (!r.sub_reader(size, payload, DecodeErrorCode::LengthOutOfBounds)) return false;

  // Failures inside the payload are recorded in `payload`; move them to `r`.
  const bool ok = section_ == SectionId::Custom ? read_custom_section(payload, info)
                                                : read_section_payload(section_, payload);
  if (!ok || payload.failed()) return r.fail_with(payload.error());
  if (!payload.at_end()) {
    return r.fail_at(payload.offset(), DecodeErrorCode::SectionSizeMismatch,
                     std::to_string(payload.remaining()) + " unread bytes at the end of the " +
                         std::string(section_name(section_)) + " section");
  }
  module_.sections.push_back(std::move(info));
  return true;
}

// Non-custom sections appear at most once, in the order of section_order().
bool ModuleDecoder::check_order(SectionId id, uint64_t at, ByteReader& r) {
  if (id == SectionId::Custom) return true;
  const int order = section_order(id);
  if (order <= last_order_) {
    const std::string detail = id == last_id_
                                   ? "duplicate " + std::string(section_name(id)) + " section"
                                   : std::string(section_name(id)) + " section after " +
                                         std::string(section_name(last_id_)) + " section";
    return r.fail_at(
        at, id == last_id_ ? DecodeErrorCode::DuplicateSection : DecodeErrorCode::SectionOutOfOrder,
        detail);
  }
  last_order_ = order;
  last_id_ = id;
  return true;
}

bool ModuleDecoder::read_section_payload(SectionId id, ByteReader& r) {
  switch (id) {
    case SectionId::Type: return read_type_section(r);
    case SectionId::Import: return read_import_section(r);
    case SectionId::Function: return read_function_section(r);
    case SectionId::Table: return read_table_section(r);
    case SectionId::Memory: return read_memory_section(r);
    case SectionId::Global: return read_global_section(r);
    case SectionId::Export: return read_export_section(r);
    case SectionId::Start: return read_start_section(r);
    case SectionId::Element: return read_element_section(r);
    case SectionId::DataCount: return read_data_count_section(r);
    case SectionId::Code: return read_code_section(r);
    case SectionId::Data: return read_data_section(r);
    default: return r.fail(DecodeErrorCode::MalformedSectionId);
  }
}

// Cross-section counts that can only be checked once every section has been seen.
bool ModuleDecoder::finish(ByteReader& r) {
  section_ = SectionId::None;
  index_ = kNoIndex;
  const uint32_t declared = declared_functions_.value_or(0);
  if (module_.bodies.size() != declared) {
    return r.fail_at(saw_code_ ? code_count_offset_ : module_.bytes.size(),
                     DecodeErrorCode::FunctionCodeMismatch,
                     std::to_string(declared) + " functions declared, " +
                         std::to_string(module_.bodies.size()) + " bodies");
  }
  if (!saw_data_ && module_.data_count.value_or(0) != 0) {
    return r.fail_at(module_.bytes.size(), DecodeErrorCode::DataCountMismatch,
                     "data count " + std::to_string(*module_.data_count) + ", no data section");
  }
  return true;
}

// ---- types ----

bool ModuleDecoder::read_valtype(ByteReader& r, ValType& out) {
  const uint64_t at = r.offset();
  uint8_t b = 0;
  if (!r.read_u8(b)) return false;
  if (b == uint8_t(ValType::V128) && !features_.simd)
    return r.fail_at(at, DecodeErrorCode::FeatureDisabled, "SIMD (v128)");
  if (!is_valtype_byte(b)) {
    char detail[16];
    std::snprintf(detail, sizeof detail, "0x%02x", b);
    return r.fail_at(at, DecodeErrorCode::MalformedValueType, detail);
  }
  out = ValType(b);
  return true;
}

bool ModuleDecoder::read_reftype(ByteReader& r, ValType& out) {
  const uint64_t at = r.offset();
  uint8_t b = 0;
  if (!r.read_u8(b)) return false;
  if (b != uint8_t(ValType::FuncRef) && b != uint8_t(ValType::ExternRef)) {
    return r.fail_at(at, DecodeErrorCode::MalformedReferenceType);
  }
  out = ValType(b);
  return true;
}

bool ModuleDecoder::read_func_type(ByteReader& r, FuncType& out) {
  const uint64_t at = r.offset();
  uint8_t form;
  if (!r.read_u8(form)) return false;
  if (form & 0x80) return r.fail_at(at, DecodeErrorCode::IntegerTooLong, "function type form");
  if (form != 0x60) return r.fail_at(at, DecodeErrorCode::MalformedFuncType, "form is not 0x60");
  uint32_t count;
  if (!r.read_count(count, limits::kMaxParams, "parameters")) return false;
  auto read_type = [&](ValType& t) { return read_valtype(r, t); };
  if (!read_entries(r, count, out.params, read_type)) return false;
  return r.read_count(count, limits::kMaxResults, "results") &&
         read_entries(r, count, out.results, read_type);
}

// limits ::= 0x00 min | 0x01 min max. Other flag values are malformed; the spec suite words it
// "integer too large" because the flag is read as a one-bit integer.
bool ModuleDecoder::read_limits(ByteReader& r, Limits& out, uint64_t max_min, const char* what) {
  const uint64_t at = r.offset();
  uint8_t flags;
  if (!r.read_u8(flags)) return false;
  if (flags & 0x80) return r.fail_at(at, DecodeErrorCode::IntegerTooLong, "limits flags");
  if (flags > 1) {
    return r.fail_at(at, DecodeErrorCode::MalformedLimits, "limits flags " + std::to_string(flags));
  }
  uint32_t min, max;
  const uint64_t min_at = r.offset();
  if (!r.read_u32(min)) return false;
  out.min = min;
  if (min > max_min) {
    return r.fail_at(min_at, DecodeErrorCode::ImplementationLimit,
                     std::string(what) + " minimum " + std::to_string(min) + ", at most " +
                         std::to_string(max_min));
  }
  out.max.reset();
  if (flags == 1) {
    if (!r.read_u32(max)) return false;
    out.max = max;
  }
  return true;
}

bool ModuleDecoder::read_table_type(ByteReader& r, TableType& out) {
  return read_reftype(r, out.element) &&
         read_limits(r, out.limits, limits::kMaxTableEntries, "table size");
}

bool ModuleDecoder::read_memory_type(ByteReader& r, MemoryType& out) {
  // Page counts above 65536 are invalid, not malformed: the validator reports them.
  return read_limits(r, out.limits, UINT32_MAX, "memory pages");
}

bool ModuleDecoder::read_global_type(ByteReader& r, GlobalType& out) {
  if (!read_valtype(r, out.type)) return false;
  const uint64_t at = r.offset();
  uint8_t mut;
  if (!r.read_u8(mut)) return false;
  if (mut > 1) return r.fail_at(at, DecodeErrorCode::MalformedMutability);
  out.is_mutable = mut == 1;
  return true;
}

// ---- sections ----

bool ModuleDecoder::read_type_section(ByteReader& r) {
  uint32_t count;
  if (!r.read_count(count, limits::kMaxTypes, "types")) return false;
  index_ = 0;
  return read_entries(r, count, module_.types,
                      [&](FuncType& t) { return read_func_type(r, t) && ++index_; });
}

bool ModuleDecoder::add_function(ByteReader& r, TypeIdx type) {
  if (module_.functions.size() >= limits::kMaxFunctions) {
    return r.fail(DecodeErrorCode::ImplementationLimit,
                  "more than " + std::to_string(limits::kMaxFunctions) + " functions");
  }
  module_.functions.push_back(type);
  return true;
}

bool ModuleDecoder::read_import_section(ByteReader& r) {
  uint32_t count;
  if (!r.read_count(count, limits::kMaxImports, "imports")) return false;
  module_.imports.reserve(r.reserve_for(count));
  for (index_ = 0; index_ < count; ++index_) {
    Import& im = module_.imports.emplace_back();
    im.offset = static_cast<uint32_t>(r.offset());
    if (!r.read_name(im.module) || !r.read_name(im.name)) return false;
    const uint64_t kind_at = r.offset();
    uint8_t kind;
    if (!r.read_u8(kind)) return false;
    bool ok = false;
    switch (kind) {
      case 0:
        ok = r.read_u32(im.func_type.value) && add_function(r, im.func_type);
        module_.functions_imported += ok;
        break;
      case 1:
        ok = read_table_type(r, im.table);
        if (ok) module_.tables.push_back(im.table), ++module_.tables_imported;
        break;
      case 2:
        ok = read_memory_type(r, im.memory);
        if (ok) module_.memories.push_back(im.memory), ++module_.memories_imported;
        break;
      case 3:
        ok = read_global_type(r, im.global);
        if (ok) module_.globals.push_back(im.global), ++module_.globals_imported;
        break;
      default:
        return r.fail_at(kind_at, DecodeErrorCode::MalformedImportKind,
                         "kind " + std::to_string(kind));
    }
    if (!ok) return false;
    im.kind = ExternKind(kind);
  }
  return true;
}

bool ModuleDecoder::read_function_section(ByteReader& r) {
  uint32_t count;
  if (!r.read_count(count, limits::kMaxFunctions, "functions")) return false;
  declared_functions_ = count;
  for (index_ = 0; index_ < count; ++index_) {
    TypeIdx type;
    if (!r.read_u32(type.value) || !add_function(r, type)) return false;
  }
  return true;
}

bool ModuleDecoder::read_table_section(ByteReader& r) {
  uint32_t count;
  if (!r.read_count(count, limits::kMaxTables, "tables")) return false;
  for (index_ = 0; index_ < count; ++index_) {
    if (!read_table_type(r, module_.tables.emplace_back())) return false;
  }
  return true;
}

bool ModuleDecoder::read_memory_section(ByteReader& r) {
  uint32_t count;
  if (!r.read_count(count, limits::kMaxMemories, "memories")) return false;
  for (index_ = 0; index_ < count; ++index_) {
    if (!read_memory_type(r, module_.memories.emplace_back())) return false;
  }
  return true;
}

bool ModuleDecoder::read_global_section(ByteReader& r) {
  uint32_t count;
  if (!r.read_count(count, limits::kMaxGlobals, "globals")) return false;
  for (index_ = 0; index_ < count; ++index_) {
    GlobalType type;
    ConstExpr init;
    if (!read_global_type(r, type) || !read_const_expr(r, init)) return false;
    if (module_.globals.size() >= limits::kMaxGlobals) {
      return r.fail(DecodeErrorCode::ImplementationLimit, "too many globals");
    }
    module_.globals.push_back(type);
    module_.global_inits.push_back(init);
  }
  return true;
}

bool ModuleDecoder::read_export_section(ByteReader& r) {
  uint32_t count;
  if (!r.read_count(count, limits::kMaxExports, "exports")) return false;
  module_.exports.reserve(r.reserve_for(count));
  for (index_ = 0; index_ < count; ++index_) {
    Export& ex = module_.exports.emplace_back();
    ex.offset = static_cast<uint32_t>(r.offset());
    if (!r.read_name(ex.name)) return false;
    const uint64_t kind_at = r.offset();
    uint8_t kind;
    if (!r.read_u8(kind)) return false;
    if (kind > 3) {
      return r.fail_at(kind_at, DecodeErrorCode::MalformedExportKind,
                       "kind " + std::to_string(kind));
    }
    ex.kind = ExternKind(kind);
    if (!r.read_u32(ex.index)) return false;
  }
  return true;
}

bool ModuleDecoder::read_start_section(ByteReader& r) {
  FuncIdx start;
  if (!r.read_u32(start.value)) return false;
  module_.start = start;
  return true;
}

bool ModuleDecoder::read_element_section(ByteReader& r) {
  uint32_t count;
  if (!r.read_count(count, limits::kMaxElemSegments, "element segments")) return false;
  index_ = 0;
  return read_entries(r, count, module_.elems,
                      [&](ElemSegment& seg) { return read_elem_segment(r, seg) && ++index_; });
}

// elem flags: bit 0 = passive/declarative (with bit 1 = declarative), else active;
// bit 1 on an active segment = explicit table index; bit 2 = items are expressions.
bool ModuleDecoder::read_elem_segment(ByteReader& r, ElemSegment& seg) {
  seg.offset_in_binary = static_cast<uint32_t>(r.offset());
  const uint64_t flags_at = r.offset();
  if (!r.read_u32(seg.flags)) return false;
  if (seg.flags > 7) {
    return r.fail_at(flags_at, DecodeErrorCode::MalformedSegmentFlags,
                     "element segment flags " + std::to_string(seg.flags));
  }
  const bool passive_or_declarative = seg.flags & 1;
  const bool explicit_table = !passive_or_declarative && (seg.flags & 2);
  seg.uses_exprs = seg.flags & 4;
  seg.mode = !passive_or_declarative ? SegmentMode::Active
             : (seg.flags & 2)       ? SegmentMode::Declarative
                                     : SegmentMode::Passive;
  if (explicit_table && !r.read_u32(seg.table.value)) return false;
  if (seg.mode == SegmentMode::Active && !read_const_expr(r, seg.offset)) return false;
  // Forms without a table index (0 and 4) have an implicit funcref type and no type byte.
  if (seg.flags & 3) {
    if (seg.uses_exprs) {
      if (!read_reftype(r, seg.type)) return false;
    } else {
      const uint64_t at = r.offset();
      uint8_t kind;
      if (!r.read_u8(kind)) return false;
      if (kind != 0) return r.fail_at(at, DecodeErrorCode::MalformedElemKind);
      seg.type = ValType::FuncRef;
    }
  }
  uint32_t items;
  if (!r.read_count(items, limits::kMaxElemSegmentEntries, "element segment items")) return false;
  if (seg.uses_exprs) {
    return read_entries(r, items, seg.exprs, [&](ConstExpr& e) { return read_const_expr(r, e); });
  }
  return read_entries(r, items, seg.func_indices, [&](FuncIdx& f) { return r.read_u32(f.value); });
}

bool ModuleDecoder::read_data_count_section(ByteReader& r) {
  uint32_t count;
  if (!r.read_u32(count)) return false;
  module_.data_count = count;
  return true;
}

bool ModuleDecoder::read_code_section(ByteReader& r) {
  saw_code_ = true;
  const uint64_t count_at = r.offset();
  uint32_t count;
  if (!r.read_count(count, limits::kMaxFunctions, "function bodies")) return false;
  code_count_offset_ = count_at;
  const uint64_t section_end = r.offset() + r.remaining();
  index_ = 0;
  return read_entries(r, count, module_.bodies, [&](FunctionBody& body) {
    return read_function_body(r, body, section_end) && ++index_;
  });
}

bool ModuleDecoder::read_function_body(ByteReader& r, FunctionBody& body, uint64_t section_end) {
  const uint64_t size_at = r.offset();
  uint32_t size;
  if (!r.read_u32(size)) return false;
  if (size > limits::kMaxFunctionBodySize) {
    return r.fail_at(size_at, DecodeErrorCode::ImplementationLimit,
                     "function body of " + std::to_string(size) + " bytes");
  }
  ByteReader b;
  if (!r.sub_reader(size, b, DecodeErrorCode::UnexpectedEndOfSection)) return false;
  body.range = {static_cast<uint32_t>(b.offset()), size};
  if (!read_locals(b, body)) return r.fail_with(b.error());
  body.code = {static_cast<uint32_t>(b.offset()),
               static_cast<uint32_t>(body.range.end() - b.offset())};
  if (!options_.scan_function_bodies) return true;
  if (!scan_code(b, body.range.end(), section_end, true)) return r.fail_with(b.error());
  return true;
}

bool ModuleDecoder::read_locals(ByteReader& r, FunctionBody& body) {
  uint32_t runs;
  if (!r.read_count(runs, limits::kMaxLocals, "local declarations")) return false;
  uint64_t total = 0;
  return read_entries(r, runs, body.locals, [&](LocalRun& run) {
    const uint64_t at = r.offset();
    if (!r.read_u32(run.count)) return false;
    total += run.count;
    if (total > limits::kMaxLocals) {
      return r.fail_at(
          at, DecodeErrorCode::TooManyLocals,
          std::to_string(total) + " locals, at most " + std::to_string(limits::kMaxLocals));
    }
    body.local_count = static_cast<uint32_t>(total);
    return read_valtype(r, run.type);
  });
}

// Reads instructions up to the `end` that closes the expression, checking their encoding and the
// block structure (else only inside if, every block closed). For a function body the final end
// must be its last byte. Block depth is a counter plus a stack of one bit per open block, never
// recursion, so nesting depth cannot exhaust the host's stack.
bool ModuleDecoder::scan_code(ByteReader& r, uint64_t body_end, uint64_t section_end,
                              bool is_body) {
  InstructionReader in(span_of(r.offset(), r.remaining()), r.offset(), features_);
  std::vector<bool> open_is_if;  // one entry per open block: is it an `if` without `else` yet
  Instruction ins;
  while (true) {
    if (in.at_end()) {
      // Ran out before the final end: a body that stops short, or a const expr at section end.
      const bool at_section_end = body_end == section_end;
      return r.fail_at(in.offset(), at_section_end ? DecodeErrorCode::UnexpectedEndOfSection
                                                   : DecodeErrorCode::EndOpcodeExpected);
    }
    if (!in.read(ins)) {
      DecodeError e = in.error();
      if (e.code == DecodeErrorCode::UnexpectedEnd) {
        e = make_decode_error(DecodeErrorCode::UnexpectedEndOfSection, e.offset);
      }
      return r.fail_with(e);
    }
    switch (ins.op) {
      case Opcode::Block:
      case Opcode::Loop: open_is_if.push_back(false); break;
      case Opcode::If: open_is_if.push_back(true); break;
      case Opcode::Else:
        if (open_is_if.empty() || !open_is_if.back()) {
          return r.fail_at(ins.offset, DecodeErrorCode::ElseWithoutIf);
        }
        open_is_if.back() = false;
        break;
      case Opcode::MemoryInit:
      case Opcode::DataDrop:
        if (!module_.data_count) {
          return r.fail_at(ins.offset, DecodeErrorCode::DataCountRequired,
                           std::string(opcode_name(ins.op)) + " needs a data count section");
        }
        break;
      default: break;
    }
    if (ins.op != Opcode::End) continue;
    if (!open_is_if.empty()) {
      open_is_if.pop_back();
      continue;
    }
    const uint64_t consumed = in.offset() - r.offset();
    if (!r.skip(consumed)) return false;
    if (is_body && !r.at_end()) {
      return r.fail(DecodeErrorCode::JunkAfterEnd,
                    std::to_string(r.remaining()) + " bytes after the function's final end");
    }
    return true;
  }
}

bool ModuleDecoder::read_const_expr(ByteReader& r, ConstExpr& out) {
  const uint64_t start = r.offset();
  const uint64_t end = start + r.remaining();
  if (!scan_code(r, end, end, false)) return false;
  out.range = {static_cast<uint32_t>(start), static_cast<uint32_t>(r.offset() - start)};
  return true;
}

bool ModuleDecoder::read_data_section(ByteReader& r) {
  saw_data_ = true;
  const uint64_t count_at = r.offset();
  uint32_t count;
  if (!r.read_count(count, limits::kMaxDataSegments, "data segments")) return false;
  if (module_.data_count && *module_.data_count != count) {
    return r.fail_at(count_at, DecodeErrorCode::DataCountMismatch,
                     "data count " + std::to_string(*module_.data_count) + ", " +
                         std::to_string(count) + " data segments");
  }
  index_ = 0;
  return read_entries(r, count, module_.datas,
                      [&](DataSegment& seg) { return read_data_segment(r, seg) && ++index_; });
}

// data flags: 0 = active in memory 0, 1 = passive, 2 = active with an explicit memory index.
bool ModuleDecoder::read_data_segment(ByteReader& r, DataSegment& seg) {
  seg.offset_in_binary = static_cast<uint32_t>(r.offset());
  const uint64_t flags_at = r.offset();
  uint32_t flags;
  if (!r.read_u32(flags)) return false;
  if (flags > 2) {
    return r.fail_at(flags_at, DecodeErrorCode::MalformedSegmentFlags,
                     "data segment flags " + std::to_string(flags));
  }
  seg.mode = flags == 1 ? SegmentMode::Passive : SegmentMode::Active;
  if (flags == 2 && !r.read_u32(seg.memory.value)) return false;
  if (seg.mode == SegmentMode::Active && !read_const_expr(r, seg.offset)) return false;
  const uint64_t size_at = r.offset();
  uint32_t size;
  if (!r.read_u32(size)) return false;
  if (size > r.remaining()) {
    return r.fail_at(size_at, DecodeErrorCode::UnexpectedEndOfSection,
                     "data segment of " + std::to_string(size) + " bytes, " +
                         std::to_string(r.remaining()) + " remain");
  }
  seg.init = {static_cast<uint32_t>(r.offset()), size};
  return r.skip(size);
}

// Custom sections: a name, then anything. Only the name must be well-formed; the "name" section's
// content is parsed for function and local names, and ignored if it is malformed.
bool ModuleDecoder::read_custom_section(ByteReader& r, SectionInfo& info) {
  if (!r.read_name(info.custom_name)) return false;
  const uint64_t at = r.offset();
  const size_t size = r.remaining();
  if (info.custom_name == "name") {
    module_.names = parse_name_section(span_of(at, size), at);
  }
  return r.skip(size);
}

}  // namespace

Result<Module, DecodeError> decode_module(std::span<const uint8_t> bytes, const Features& features,
                                          DecodeOptions options) {
  return ModuleDecoder(bytes, features, options).run();
}

}  // namespace warden
