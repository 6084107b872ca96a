// The decoded form of a module. Nothing here is re-parsed by later layers except function bodies
// and constant expressions, which stay as byte ranges into `bytes` and are read with the one
// InstructionReader. The validator adds `function_info`; the compiler reads both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "decoder/section_id.h"
#include "decoder/types.h"

namespace warden {

// A byte range [offset, offset + size) of Module::bytes.
struct ByteRange {
  uint32_t offset = 0;
  uint32_t size = 0;
  uint32_t end() const { return offset + size; }
};

// A constant expression: its instructions, ending with `end`, as a range of the binary.
struct ConstExpr {
  ByteRange range;
};

struct Import {
  std::string module;
  std::string name;
  ExternKind kind = ExternKind::Func;
  TypeIdx func_type;    // kind == Func
  TableType table;      // kind == Table
  MemoryType memory;    // kind == Memory
  GlobalType global;    // kind == Global
  uint32_t offset = 0;  // where the entry starts in the binary
};

struct Export {
  std::string name;
  ExternKind kind = ExternKind::Func;
  uint32_t index = 0;  // into the index space of `kind`
  uint32_t offset = 0;
};

enum class SegmentMode : uint8_t { Active, Passive, Declarative };

struct ElemSegment {
  SegmentMode mode = SegmentMode::Active;
  ValType type = ValType::FuncRef;
  TableIdx table;    // active only
  ConstExpr offset;  // active only
  // Items are either function indices (flags 0..3) or constant expressions (flags 4..7).
  bool uses_exprs = false;
  std::vector<FuncIdx> func_indices;
  std::vector<ConstExpr> exprs;
  uint32_t flags = 0;
  uint32_t offset_in_binary = 0;

  size_t size() const { return uses_exprs ? exprs.size() : func_indices.size(); }
};

struct DataSegment {
  SegmentMode mode = SegmentMode::Active;  // never Declarative
  MemIdx memory;
  ConstExpr offset;  // active only
  ByteRange init;    // the bytes to copy
  uint32_t offset_in_binary = 0;
};

// Local declarations of one function body, as written: runs of (count, type).
struct LocalRun {
  uint32_t count = 0;
  ValType type = ValType::I32;
};

struct FunctionBody {
  ByteRange range;               // the whole body after its size prefix (locals + code)
  ByteRange code;                // the instructions, ending with the final `end`
  std::vector<LocalRun> locals;  // declared locals (not parameters)
  uint32_t local_count = 0;      // sum of locals[].count, checked <= limits::kMaxLocals
};

// One entry of a block table: a block, loop or if in a function body, in order of appearance.
struct BlockInfo {
  uint32_t offset = 0;       // of the block/loop/if opcode
  uint32_t else_offset = 0;  // of `else`, 0 if none
  uint32_t end_offset = 0;   // of the matching `end`
  uint32_t param_count = 0;
  uint32_t result_count = 0;
};

// What validation learned about a defined function, for the compiler.
struct FunctionInfo {
  std::vector<ValType> locals;     // parameters followed by declared locals: the frame layout
  uint32_t max_stack_height = 0;   // most operand-stack values alive at once (excluding locals)
  uint32_t max_control_depth = 0;  // deepest nesting of blocks, counting the function body
  std::vector<BlockInfo> blocks;   // every block/loop/if, in order of appearance
};

struct SectionInfo {
  SectionId id = SectionId::None;
  uint32_t header_offset = 0;  // of the id byte
  ByteRange payload;           // the section's contents
  std::string custom_name;     // for custom sections
};

// Parsed from the "name" custom section. Malformed name sections are ignored, not errors.
struct NameSection {
  std::optional<std::string> module_name;
  std::unordered_map<uint32_t, std::string> function_names;
  std::unordered_map<uint32_t, std::unordered_map<uint32_t, std::string>> local_names;
};

struct Module {
  std::vector<uint8_t> bytes;  // the binary, owned: every ByteRange points into it

  std::vector<SectionInfo> sections;  // in order of appearance, custom ones included
  std::vector<FuncType> types;
  std::vector<Import> imports;

  // Index spaces, imports first. `*_imported` counts how many of each come from imports.
  std::vector<TypeIdx> functions;  // the type of every function
  std::vector<TableType> tables;
  std::vector<MemoryType> memories;
  std::vector<GlobalType> globals;
  uint32_t functions_imported = 0;
  uint32_t tables_imported = 0;
  uint32_t memories_imported = 0;
  uint32_t globals_imported = 0;

  std::vector<ConstExpr> global_inits;  // for defined globals: global_inits[i - globals_imported]
  std::vector<Export> exports;
  std::optional<FuncIdx> start;
  std::vector<ElemSegment> elems;
  std::optional<uint32_t> data_count;
  std::vector<FunctionBody> bodies;  // for defined functions: bodies[i - functions_imported]
  std::vector<DataSegment> datas;
  NameSection names;

  // Filled by the validator, one per defined function (same order as bodies).
  std::vector<FunctionInfo> function_info;
  bool validated = false;

  const FuncType& func_type(FuncIdx f) const { return types[functions[f.value].value]; }
  bool is_imported(FuncIdx f) const { return f.value < functions_imported; }
  const FunctionBody& body(FuncIdx f) const { return bodies[f.value - functions_imported]; }
  std::string_view bytes_of(ByteRange r) const {
    return {reinterpret_cast<const char*>(bytes.data()) + r.offset, r.size};
  }
};

}  // namespace warden
