#include "vm/compiler.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <array>
#include <cstring>
#include <map>
#include <span>
#include <unordered_map>

#include "decoder/instruction_reader.h"
#include "vm/compiled_module.h"
#include "vm/trap.h"
#include "vm/value.h"

namespace warden {
namespace {

constexpr uint32_t kNoFixup = UINT32_MAX;
constexpr size_t kMaxPooledConstants = 2048;  // beyond this, constants are loaded by an instruction

struct Control {
  Opcode kind = Opcode::Block;  // Block, Loop, If; Nop for the function body
  BlockType block;              // its type (Block, Loop, If)
  uint32_t height = 0;          // operand stack height below the block's parameters
  uint32_t params = 0;
  uint32_t results = 0;
  uint32_t loop_start = 0;         // Loop: cell index of the header
  std::vector<uint32_t> fixups;    // cells to patch with the end label
  uint32_t else_fixup = kNoFixup;  // If: the jump to the else branch (or the end)
  bool unreachable = false;
  uint32_t label_arity() const { return kind == Opcode::Loop ? params : results; }
};

class FunctionCompiler {
 public:
  FunctionCompiler(const CompiledModule& cm, uint32_t defined_index)
      : cm_(cm),
        m_(cm.module()),
        info_(m_.function_info[defined_index]),
        body_(m_.bodies[defined_index]),
        type_(m_.func_type(FuncIdx(m_.functions_imported + defined_index))),
        fuel_(cm.engine().config().fuel) {}

  std::unique_ptr<CompiledFunction> compile(const void* const* handlers);

 private:
  // ---- code emission ----
  uint32_t emit(Handler h, uint32_t wasm_offset) {
    const uint32_t at = static_cast<uint32_t>(code_.size());
    Cell c;
    c.u64 = static_cast<uint64_t>(h);
    code_.push_back(c);
    out_->offsets.emplace_back(at, wasm_offset);
    producer_valid_ = false;
    return at;
  }
  uint32_t operands(uint32_t a, uint32_t b = 0) {
    Cell c;
    c.u32[0] = a;
    c.u32[1] = b;
    code_.push_back(c);
    return static_cast<uint32_t>(code_.size() - 1);
  }
  uint32_t target_cell() {  // a branch target, patched by bind() or resolved at once
    Cell c;
    c.u64 = 0;
    code_.push_back(c);
    return static_cast<uint32_t>(code_.size() - 1);
  }
  void jump_to(uint32_t cell, uint32_t target) { jumps_.emplace_back(cell, target); }
  void bind(std::vector<uint32_t>& fixups) {
    for (uint32_t cell : fixups) jump_to(cell, here());
    fixups.clear();
    producer_valid_ = false;
  }
  uint32_t here() const { return static_cast<uint32_t>(code_.size()); }

  // ---- operand stack model ----
  // The home of entry `index` (an entry may be one above the top: where the next push goes).
  // Homes are packed: a v128 entry takes two slots, so entries' homes follow their types and a
  // block's or a call's values are laid out the same way whatever computed them.
  uint32_t home(size_t index) const {
    if (index < stack_.size()) return stack_[index].home;
    return stack_.empty() ? base_ : stack_.back().home + stack_.back().width;
  }
  uint32_t pop() {
    const uint32_t src = stack_.back().src;
    stack_.pop_back();
    return src;
  }
  uint32_t push(ValType type = ValType::I32) {  // a new value computed into its home
    const uint32_t h = home(stack_.size());
    const uint8_t width = static_cast<uint8_t>(slot_width(type));
    stack_.push_back({h, h, width});
    slots_used_ = std::max(slots_used_, h + width);
    return h;
  }
  void push_source(uint32_t src, uint32_t width) {  // a value that already is somewhere
    const uint32_t h = home(stack_.size());
    stack_.push_back({src, h, static_cast<uint8_t>(width)});
    slots_used_ = std::max(slots_used_, h + width);
  }
  void copy(uint32_t dst, uint32_t src, uint32_t width, uint32_t at) {
    if (dst == src) return;
    emit(width == 2 ? Handler::Copy128 : Handler::Copy, at);
    operands(dst, src);
  }
  void materialize(size_t index, uint32_t at) {
    Entry& e = stack_[index];
    copy(e.home, e.src, e.width, at);
    e.src = e.home;
  }
  void materialize_all(uint32_t at) {
    for (size_t i = 0; i < stack_.size(); ++i) materialize(i, at);
  }
  // Moves the top `n` entries to the slots from `dst` on, laid out as their homes are. Safe in
  // ascending order when no source lies inside the target range other than at its own position
  // (see return_values()).
  void transfer(uint32_t n, uint32_t dst, uint32_t at) {
    const size_t first = stack_.size() - n;
    for (uint32_t i = 0; i < n; ++i) {
      const Entry& e = stack_[first + i];
      copy(dst + (e.home - stack_[first].home), e.src, e.width, at);
    }
  }
  std::span<const ValType> param_types(const Control& c) const {
    if (c.block.kind != BlockType::Kind::TypeIndex) return {};
    return m_.types[c.block.type_index].params;
  }
  std::span<const ValType> result_types(const Control& c) const {
    if (c.kind == Opcode::Nop) return type_.results;
    switch (c.block.kind) {
      case BlockType::Kind::Empty: return {};
      case BlockType::Kind::Value: return {&c.block.value, 1};
      case BlockType::Kind::TypeIndex: return m_.types[c.block.type_index].results;
    }
    return {};
  }
  uint32_t width_of_top() const { return stack_.back().width; }
  // Records the instruction that just wrote the top of the stack (its destination operand is at
  // `cell`/`half`), so that a consumer can retarget or fuse it. The record names the slot and the
  // stack depth it wrote: an instruction that pops without emitting code (drop, or a branch's
  // bookkeeping) leaves the record behind, and it must not then apply to the entry below.
  void set_producer(uint32_t cell, int half) {
    producer_valid_ = true;
    producer_op_ = Opcode::Nop;
    producer_cell_ = cell;
    producer_half_ = half;
    producer_end_ = here();
    producer_slot_ = code_[cell].u32[half];
    producer_depth_ = stack_.size();
  }
  bool producer_is_top() const {
    return producer_valid_ && producer_end_ == here() && stack_.size() == producer_depth_ &&
           stack_.back().src == producer_slot_ && producer_slot_ == stack_.back().home;
  }

  // ---- fuel ----
  void start_block_fuel(uint32_t at) {
    if (!fuel_) return;
    fuel_instruction_ = emit(Handler::Fuel, at);
    set_fuel_cell(operands(0), 0);
  }
  void set_fuel_cell(uint32_t cell, int half) {
    fuel_cell_ = cell;
    fuel_half_ = half;
  }
  void charge(Opcode op) {
    if (fuel_cell_ != kNoFixup) code_[fuel_cell_].u32[fuel_half_] += opcode_info(op).fuel;
  }
  // Emits `op`'s handler. With metering, when a basic block's Fuel instruction is the last thing
  // emitted, the charge moves into this instruction's spare operand half (cell 2, second half:
  // binary numeric instructions, loads and stores have one) and the Fuel handler disappears.
  uint32_t emit_chargeable(Opcode op, uint32_t at) {
    // (Not the function's first block: the call charges that one.)
    if (fuel_ && fuel_instruction_ != kNoFixup && fuel_instruction_ != 0 &&
        fuel_instruction_ + 2 == here()) {
      const uint32_t cost = code_[fuel_instruction_ + 1].u32[0];
      code_.resize(fuel_instruction_);
      out_->offsets.pop_back();
      fuel_instruction_ = kNoFixup;
      pending_charge_ = cost;
      return emit(charged(op), at);
    }
    pending_charge_ = kNoFixup;
    return emit(handler_for(op), at);
  }
  // After the operands of an emit_chargeable() instruction: the block charge lives in cell 2.
  void place_charge(uint32_t start) {
    if (pending_charge_ == kNoFixup) return;
    code_[start + 2].u32[1] = pending_charge_;
    set_fuel_cell(start + 2, 1);
    pending_charge_ = kNoFixup;
  }

  uint32_t constant_slot(uint64_t bits) {
    auto it = pool_.find(bits);
    return it == pool_.end() ? kNoFixup : it->second;
  }
  uint32_t constant_slot(const std::array<uint8_t, 16>& bytes) {
    auto it = pool128_.find(bytes);
    return it == pool128_.end() ? kNoFixup : it->second;
  }
  void scan_constants();
  void block_arity(const BlockType& bt, uint32_t& params, uint32_t& results) const;
  Control& label(uint32_t depth) { return controls_[controls_.size() - 1 - depth]; }

  // If the top of the stack was just computed by a comparison, removes that instruction and
  // returns its opcode and operands so the branch consuming it can test them directly.
  bool take_comparison(Opcode& op, uint32_t& a, uint32_t& b) {
    if (!producer_is_top() || !is_comparison(producer_op_)) return false;
    op = producer_op_;
    a = code_[producer_start_ + 1].u32[1];
    b = opcode_info(op).sig.param_count == 2 ? code_[producer_start_ + 2].u32[0] : 0;
    code_.resize(producer_start_);
    out_->offsets.pop_back();
    producer_valid_ = false;
    return true;
  }
  void compile_instruction(const Instruction& ins);
  void compile_simd(const Instruction& ins);
  void branch(uint32_t depth, uint32_t at);  // unconditional, values on top of the stack
  void return_values(uint32_t at);
  void end_block(const Instruction& ins);

  const CompiledModule& cm_;
  const Module& m_;
  const FunctionInfo& info_;
  const FunctionBody& body_;
  const FuncType& type_;
  const bool fuel_;

  std::unique_ptr<CompiledFunction> out_ = std::make_unique<CompiledFunction>();
  std::vector<Cell> code_;
  std::vector<std::pair<uint32_t, uint32_t>> jumps_;       // (cell, target cell index)
  std::vector<std::pair<uint32_t, uint32_t>> loop_jumps_;  // (cost cell, loop header cell)
  std::unordered_map<uint64_t, uint32_t> pool_;            // constant bits -> slot
  std::map<std::array<uint8_t, 16>, uint32_t> pool128_;    // v128 constants -> first slot
  std::vector<uint64_t> pool_values_;
  std::vector<uint32_t> local_slot_;  // local index -> its first slot
  uint32_t base_ = 0;                 // first operand-stack slot
  uint32_t slots_used_ = 0;           // the frame's high-water mark
  // One operand-stack entry: where its value is now, the slots it occupies when it has to be
  // somewhere of its own (its home), and its width in slots (2 for a v128).
  struct Entry {
    uint32_t src;
    uint32_t home;
    uint8_t width;
  };
  std::vector<Entry> stack_;
  std::vector<Control> controls_;
  uint32_t fuel_cell_ = kNoFixup;  // where the current basic block's charge accumulates
  int fuel_half_ = 0;
  uint32_t fuel_instruction_ = kNoFixup;  // the last Fuel handler emitted
  uint32_t pending_charge_ = kNoFixup;
  bool producer_valid_ = false;
  uint32_t producer_cell_ = 0;
  int producer_half_ = 0;
  uint32_t producer_end_ = 0;
  uint32_t producer_slot_ = 0;        // the slot it wrote
  size_t producer_depth_ = 0;         // the stack height just after it
  Opcode producer_op_ = Opcode::Nop;  // for numeric producers: the opcode (fusion)
  uint32_t producer_start_ = 0;       // ... and its handler cell
  uint32_t skip_depth_ = 0;           // nesting inside unreachable code
};

void FunctionCompiler::block_arity(const BlockType& bt, uint32_t& params, uint32_t& results) const {
  switch (bt.kind) {
    case BlockType::Kind::Empty: params = results = 0; break;
    case BlockType::Kind::Value:
      params = 0;
      results = 1;
      break;
    case BlockType::Kind::TypeIndex:
      params = static_cast<uint32_t>(m_.types[bt.type_index].params.size());
      results = static_cast<uint32_t>(m_.types[bt.type_index].results.size());
      break;
  }
}

// Every distinct constant of the body gets a frame slot, filled at function entry.
void FunctionCompiler::scan_constants() {
  const auto bytes = std::span<const uint8_t>(m_.bytes).subspan(body_.code.offset, body_.code.size);
  InstructionReader reader(bytes, body_.code.offset, cm_.engine().config().features);
  Instruction ins;
  while (!reader.at_end() && reader.read(ins)) {
    uint64_t bits;
    switch (ins.op) {
      case Opcode::V128Const:
        if (pool_values_.size() + 2 <= kMaxPooledConstants && !pool128_.contains(ins.v128)) {
          pool128_.emplace(ins.v128, static_cast<uint32_t>(pool_values_.size()));
          uint64_t half[2];
          std::memcpy(half, ins.v128.data(), 16);
          pool_values_.push_back(half[0]);
          pool_values_.push_back(half[1]);
        }
        continue;
      case Opcode::I32Const: bits = static_cast<uint32_t>(ins.i32); break;
      case Opcode::I64Const: bits = static_cast<uint64_t>(ins.i64); break;
      case Opcode::F32Const: bits = ins.f32_bits; break;
      case Opcode::F64Const: bits = ins.f64_bits; break;
      case Opcode::RefNull: bits = 0; break;
      default: continue;
    }
    if (pool_values_.size() < kMaxPooledConstants && !pool_.contains(bits)) {
      pool_.emplace(bits, static_cast<uint32_t>(pool_values_.size()));
      pool_values_.push_back(bits);
    }
  }
}

std::unique_ptr<CompiledFunction> FunctionCompiler::compile(const void* const* handlers) {
  out_->param_slots = slot_count(type_.params);
  out_->result_slots = slot_count(type_.results);
  local_slot_.reserve(info_.locals.size());
  uint32_t next = 0;
  for (ValType t : info_.locals) {
    local_slot_.push_back(next);
    next += slot_width(t);
  }
  out_->local_slots = next;
  scan_constants();
  for (auto& [bits, index] : pool_) index += out_->local_slots;
  for (auto& [bytes, index] : pool128_) index += out_->local_slots;
  base_ = out_->local_slots + static_cast<uint32_t>(pool_values_.size());
  slots_used_ = base_;
  out_->frame_init.assign(out_->local_slots - out_->param_slots, 0);
  out_->frame_init.insert(out_->frame_init.end(), pool_values_.begin(), pool_values_.end());

  Control body;
  body.kind = Opcode::Nop;
  body.results = static_cast<uint32_t>(type_.results.size());
  controls_.push_back(body);
  start_block_fuel(body_.code.offset);

  const auto bytes = std::span<const uint8_t>(m_.bytes).subspan(body_.code.offset, body_.code.size);
  InstructionReader reader(bytes, body_.code.offset, cm_.engine().config().features);
  Instruction ins;
  while (!controls_.empty()) {
    if (!reader.read(ins)) std::abort();  // validated code always reads
    compile_instruction(ins);
  }

  out_->frame_slots = std::max(slots_used_ + 1, out_->result_slots);
  const size_t chunk = CompiledFunction::kFrameInitChunk;
  out_->frame_init.resize((out_->frame_init.size() + chunk - 1) / chunk * chunk, 0);
  out_->frame_slots = std::max(out_->frame_slots,
                               out_->param_slots + static_cast<uint32_t>(out_->frame_init.size()));
  // Resolve handler numbers and branch targets to addresses.
  for (auto [cost, header] : loop_jumps_) code_[cost].u32[0] = code_[header + 1].u32[0];
  // The entry block's charge moves into the call (one handler less per call).
  if (fuel_ && code_.size() >= 2 && code_[0].u64 == static_cast<uint64_t>(Handler::Fuel)) {
    out_->entry = 2;
    out_->entry_fuel = code_[1].u32[0];
  }
  out_->code = std::move(code_);
  Cell* base = out_->code.data();
  for (auto [cell, target] : jumps_) base[cell].target = base + target;
  if (handlers) {
    for (auto [cell, offset] : out_->offsets) base[cell].handler = handlers[base[cell].u64];
  }
  return std::move(out_);
}

void FunctionCompiler::return_values(uint32_t at) {
  const uint32_t n = static_cast<uint32_t>(type_.results.size());
  const size_t first = stack_.size() - n;
  bool hazard = false;
  for (uint32_t i = 0; i < n; ++i) {
    const Entry& e = stack_[first + i];
    const uint32_t dst = e.home - home(first);
    if (e.src < out_->result_slots && e.src != dst && e.src != e.home) hazard = true;
  }
  if (hazard) {
    for (uint32_t i = 0; i < n; ++i) materialize(first + i, at);
  }
  transfer(n, 0, at);
  emit(Handler::ReturnOp, at);
}

void FunctionCompiler::branch(uint32_t depth, uint32_t at) {
  if (depth == controls_.size() - 1) return return_values(at);
  Control& target = label(depth);
  transfer(target.label_arity(), home(target.height), at);
  if (target.kind == Opcode::Loop) {
    // A backward jump does the loop header's work itself and lands after it.
    emit(Handler::JumpLoop, at);
    loop_jumps_.emplace_back(operands(0), target.loop_start);
    jump_to(target_cell(), target.loop_start + 2);
    return;
  }
  emit(Handler::Jump, at);
  target.fixups.push_back(target_cell());
}

void FunctionCompiler::end_block(const Instruction& ins) {
  Control& c = controls_.back();
  const uint32_t at = ins.offset;
  if (c.kind == Opcode::Nop) {  // the function body
    if (!c.unreachable) return_values(at);
    controls_.pop_back();
    return;
  }
  if (!c.unreachable) transfer(c.results, home(c.height), at);
  const bool merges = !c.fixups.empty() || c.else_fixup != kNoFixup;
  if (c.else_fixup != kNoFixup) jump_to(c.else_fixup, here());
  bind(c.fixups);
  const uint32_t height = c.height;
  Control ended;  // what the results' types are read from (c itself is about to go)
  ended.kind = c.kind;
  ended.block = c.block;
  const bool was_unreachable = c.unreachable;
  controls_.pop_back();
  stack_.resize(height);
  for (ValType t : result_types(ended)) push(t);
  if (merges || was_unreachable) {
    producer_valid_ = false;
    start_block_fuel(at);
  }
}

void FunctionCompiler::compile_instruction(const Instruction& ins) {
  const Opcode op = ins.op;
  const uint32_t at = ins.offset;
  Control& current = controls_.back();

  if (current.unreachable) {  // skip dead code, keeping track of nesting
    switch (op) {
      case Opcode::Block:
      case Opcode::Loop:
      case Opcode::If: ++skip_depth_; return;
      case Opcode::Else:
        if (skip_depth_ > 0) return;
        break;
      case Opcode::End:
        if (skip_depth_ > 0) {
          --skip_depth_;
          return;
        }
        break;
      default: return;
    }
  }
  charge(op);

  const OpcodeInfo& info = opcode_info(op);
  // Numeric instructions, scalar and vector: operands from their sources, result to its home.
  // [dst|a], [dst|a][b|charge] or [dst|a][b|c].
  if (info.imm == ImmKind::None && !info.sig.special && info.sig.result_count == 1) {
    const uint32_t n = info.sig.param_count;
    uint32_t src[3] = {0, 0, 0};
    for (uint32_t i = n; i-- > 0;) src[i] = pop();
    const uint32_t dst = push(info.sig.results[0]);
    const uint32_t start = n == 2 ? emit_chargeable(op, at) : emit(handler_for(op), at);
    set_producer(operands(dst, src[0]), 0);
    if (n >= 2) operands(src[1], src[2]);
    if (n == 2) place_charge(start);
    producer_end_ = here();
    // A comparison that carries a block charge cannot be fused away into a branch.
    producer_op_ = code_[start].u64 == static_cast<uint64_t>(handler_for(op)) ? op : Opcode::Nop;
    producer_start_ = start;
    return;
  }
  if (info.imm == ImmKind::MemArg) {
    if (info.sig.result_count == 1) {  // load
      const uint32_t addr = pop();
      const uint32_t dst = push(info.sig.results[0]);
      const uint32_t start = emit_chargeable(op, at);
      set_producer(operands(dst, addr), 0);
      operands(static_cast<uint32_t>(ins.memarg.offset));
      place_charge(start);
      producer_end_ = here();
    } else {  // store
      const uint32_t value = pop();
      const uint32_t addr = pop();
      const uint32_t start = emit_chargeable(op, at);
      operands(addr, value);
      operands(static_cast<uint32_t>(ins.memarg.offset));
      place_charge(start);
    }
    return;
  }

  switch (op) {
    case Opcode::Nop: return;
    case Opcode::Unreachable:
      emit(Handler::Trap, at);
      operands(static_cast<uint32_t>(TrapCode::Unreachable));
      current.unreachable = true;
      stack_.resize(current.height);
      return;

    case Opcode::Block:
    case Opcode::Loop:
    case Opcode::If: {
      Control c;
      c.kind = op;
      c.block = ins.block;
      block_arity(ins.block, c.params, c.results);
      uint32_t cond = 0;
      Opcode compare = Opcode::Nop;
      uint32_t ca = 0, cb = 0;
      if (op == Opcode::If) {
        if (!take_comparison(compare, ca, cb)) compare = Opcode::Nop;
        cond = pop();
      }
      materialize_all(at);
      c.height = static_cast<uint32_t>(stack_.size()) - c.params;
      if (op == Opcode::Loop) {
        producer_valid_ = false;
        emit(Handler::LoopHeader, at);
        c.loop_start = here() - 1;
        const uint32_t cell = operands(0);
        if (fuel_) set_fuel_cell(cell, 0);
      } else if (op == Opcode::If) {
        if (compare != Opcode::Nop) {
          emit(fused_branch(compare, false), at);
          operands(ca, cb);
        } else {
          emit(Handler::JumpIfZero, at);
          operands(cond);
        }
        c.else_fixup = target_cell();
      }
      controls_.push_back(std::move(c));
      if (op == Opcode::If) start_block_fuel(at);
      return;
    }
    case Opcode::Else: {
      Control& c = current;
      if (!c.unreachable) {
        transfer(c.results, home(c.height), at);
        emit(Handler::Jump, at);
        c.fixups.push_back(target_cell());
      }
      jump_to(c.else_fixup, here());
      c.else_fixup = kNoFixup;
      c.unreachable = false;
      stack_.resize(c.height);
      for (ValType t : param_types(c)) push(t);
      producer_valid_ = false;
      start_block_fuel(at);
      return;
    }
    case Opcode::End: return end_block(ins);

    case Opcode::Br:
      branch(ins.index, at);
      current.unreachable = true;
      stack_.resize(current.height);
      return;
    case Opcode::BrIf: {
      Opcode compare = Opcode::Nop;
      uint32_t ca = 0, cb = 0;
      const bool fused = take_comparison(compare, ca, cb);
      const uint32_t cond = pop();
      const bool is_return = ins.index == controls_.size() - 1;
      const uint32_t arity = is_return ? out_->result_slots : label(ins.index).label_arity();
      if (arity == 0 && !is_return) {
        Control& target = label(ins.index);
        if (fused) {
          emit(fuel_ ? fused_branch_with_fuel(compare) : fused_branch(compare, true), at);
          operands(ca, cb);
        } else {
          emit(fuel_ ? Handler::JumpIfNonZeroFuel : Handler::JumpIfNonZero, at);
          operands(cond);
        }
        const uint32_t cell = target_cell();
        if (target.kind == Opcode::Loop) {
          jump_to(cell, target.loop_start);
        } else {
          target.fixups.push_back(cell);
        }
        if (fuel_) {  // the fall-through block is charged by the branch itself
          set_fuel_cell(operands(0), 0);
          return;
        }
      } else {
        if (fused) {
          emit(fused_branch(compare, false), at);
          operands(ca, cb);
        } else {
          emit(Handler::JumpIfZero, at);
          operands(cond);
        }
        std::vector<uint32_t> skip{target_cell()};
        const std::vector<Entry> saved = stack_;
        branch(ins.index, at);
        stack_ = saved;
        bind(skip);
      }
      start_block_fuel(at);
      return;
    }
    case Opcode::BrTable: {
      const uint32_t index = pop();
      const auto targets = ins.br_targets;  // default last
      const uint32_t count = static_cast<uint32_t>(targets.size()) - 1;
      const uint32_t arity = targets.back() == controls_.size() - 1
                                 ? out_->result_slots
                                 : label(targets.back()).label_arity();
      emit(Handler::JumpTable, at);
      operands(index, count);
      const uint32_t first_cell = here();
      for (size_t i = 0; i < targets.size(); ++i) target_cell();
      // Each distinct label gets a stub that moves the values and jumps (or returns).
      std::unordered_map<uint32_t, uint32_t> stubs;
      const std::vector<Entry> saved = stack_;
      for (size_t i = 0; i < targets.size(); ++i) {
        const uint32_t depth = targets[i];
        auto it = stubs.find(depth);
        if (it == stubs.end()) {
          const bool direct = arity == 0 && depth != controls_.size() - 1;
          if (direct) {
            Control& target = label(depth);
            if (target.kind == Opcode::Loop) {
              jump_to(first_cell + static_cast<uint32_t>(i), target.loop_start);
            } else {
              target.fixups.push_back(first_cell + static_cast<uint32_t>(i));
            }
            continue;
          }
          it = stubs.emplace(depth, here()).first;
          stack_ = saved;
          branch(depth, at);
        }
        jump_to(first_cell + static_cast<uint32_t>(i), it->second);
      }
      current.unreachable = true;
      stack_.resize(current.height);
      return;
    }
    case Opcode::Return:
      return_values(at);
      current.unreachable = true;
      stack_.resize(current.height);
      return;

    case Opcode::Call:
    case Opcode::CallIndirect: {
      const FuncType& callee =
          op == Opcode::Call ? m_.func_type(FuncIdx(ins.index)) : m_.types[ins.index];
      uint32_t table_index = 0;
      if (op == Opcode::CallIndirect) table_index = pop();
      const uint32_t n = static_cast<uint32_t>(callee.params.size());
      for (size_t i = stack_.size() - n; i < stack_.size(); ++i) materialize(i, at);
      const uint32_t frame = home(stack_.size() - n);
      if (op == Opcode::Call) {
        emit(Handler::CallWasm, at);
        operands(ins.index, frame);
      } else {
        emit(Handler::CallIndirectOp, at);
        operands(ins.index2, frame);
        operands(table_index, cm_.type_id(ins.index));
      }
      stack_.resize(stack_.size() - n);
      for (ValType t : callee.results) push(t);
      return;
    }

    case Opcode::Drop: pop(); return;
    case Opcode::Select:
    case Opcode::SelectT: {
      const uint32_t cond = pop();
      const uint32_t b = pop();
      const bool wide = width_of_top() == 2;
      const uint32_t a = pop();
      const uint32_t dst = push(wide ? ValType::V128 : ValType::I64);
      emit(wide ? Handler::Select128 : Handler::SelectOp, at);
      set_producer(operands(dst, cond), 0);
      operands(a, b);
      producer_end_ = here();
      return;
    }

    case Opcode::LocalGet:
      push_source(local_slot_[ins.index], slot_width(info_.locals[ins.index]));
      return;
    case Opcode::LocalSet:
    case Opcode::LocalTee: {
      const uint32_t local = local_slot_[ins.index];
      // Entries below the top that still read this local must get their own copy first.
      for (size_t i = 0; i + 1 < stack_.size(); ++i) {
        if (stack_[i].src == local) materialize(i, at);
      }
      if (producer_is_top()) {
        code_[producer_cell_].u32[producer_half_] = local;
        producer_valid_ = false;
      } else {
        copy(local, stack_.back().src, width_of_top(), at);
      }
      if (op == Opcode::LocalSet) {
        pop();
      } else {
        stack_.back().src = local;
      }
      return;
    }
    case Opcode::GlobalGet: {
      const ValType t = m_.globals[ins.index].type;
      const uint32_t dst = push(t);
      emit(t == ValType::V128 ? Handler::GlobalGet128 : Handler::GlobalGetOp, at);
      set_producer(operands(dst, ins.index), 0);
      return;
    }
    case Opcode::GlobalSet: {
      const bool wide = width_of_top() == 2;
      const uint32_t src = pop();
      emit(wide ? Handler::GlobalSet128 : Handler::GlobalSetOp, at);
      operands(ins.index, src);
      return;
    }

    case Opcode::I32Const:
    case Opcode::I64Const:
    case Opcode::F32Const:
    case Opcode::F64Const:
    case Opcode::RefNull: {
      const uint64_t bits = op == Opcode::I32Const   ? static_cast<uint32_t>(ins.i32)
                            : op == Opcode::I64Const ? static_cast<uint64_t>(ins.i64)
                            : op == Opcode::F32Const ? ins.f32_bits
                            : op == Opcode::F64Const ? ins.f64_bits
                                                     : 0;
      const uint32_t slot = constant_slot(bits);
      if (slot != kNoFixup) {
        push_source(slot, 1);
      } else {
        const uint32_t dst = push();
        emit(Handler::Const64, at);
        operands(dst);
        Cell c;
        c.u64 = bits;
        code_.push_back(c);
      }
      return;
    }
    case Opcode::RefIsNull: {
      const uint32_t src = pop();
      const uint32_t dst = push();
      emit(Handler::RefIsNullOp, at);
      set_producer(operands(dst, src), 0);
      return;
    }
    case Opcode::RefFunc: {
      const uint32_t dst = push();
      emit(Handler::RefFuncOp, at);
      set_producer(operands(dst, ins.index), 0);
      return;
    }

    case Opcode::TableGet: {
      const uint32_t index = pop();
      const uint32_t dst = push();
      emit(Handler::TableGetOp, at);
      operands(dst, ins.index);
      operands(index);
      return;
    }
    case Opcode::TableSet: {
      const uint32_t value = pop();
      const uint32_t index = pop();
      emit(Handler::TableSetOp, at);
      operands(index, ins.index);
      operands(value);
      return;
    }
    case Opcode::TableSize: {
      const uint32_t dst = push();
      emit(Handler::TableSizeOp, at);
      operands(dst, ins.index);
      return;
    }
    case Opcode::TableGrow: {
      const uint32_t delta = pop();
      const uint32_t init = pop();
      const uint32_t dst = push();
      emit(Handler::TableGrowOp, at);
      operands(dst, ins.index);
      operands(delta, init);
      return;
    }
    case Opcode::TableFill: {
      const uint32_t n = pop();
      const uint32_t value = pop();
      const uint32_t d = pop();
      emit(Handler::TableFillOp, at);
      operands(ins.index, d);
      operands(value, n);
      return;
    }
    case Opcode::TableCopy:
    case Opcode::TableInit: {
      const uint32_t n = pop();
      const uint32_t s = pop();
      const uint32_t d = pop();
      if (op == Opcode::TableCopy) {
        emit(Handler::TableCopyOp, at);
        operands(ins.index, ins.index2);  // destination table, source table
      } else {
        emit(Handler::TableInitOp, at);
        operands(ins.index2, ins.index);  // table, element segment
      }
      operands(d, s);
      operands(n);
      return;
    }
    case Opcode::ElemDrop:
      emit(Handler::ElemDropOp, at);
      operands(ins.index);
      return;

    case Opcode::MemorySize: {
      const uint32_t dst = push();
      emit(Handler::MemorySizeOp, at);
      operands(dst);
      return;
    }
    case Opcode::MemoryGrow: {
      const uint32_t delta = pop();
      const uint32_t dst = push();
      emit(Handler::MemoryGrowOp, at);
      operands(dst, delta);
      return;
    }
    case Opcode::MemoryFill:
    case Opcode::MemoryCopy:
    case Opcode::MemoryInit: {
      const uint32_t n = pop();
      const uint32_t s = pop();  // the fill value for memory.fill
      const uint32_t d = pop();
      emit(op == Opcode::MemoryFill   ? Handler::MemoryFillOp
           : op == Opcode::MemoryCopy ? Handler::MemoryCopyOp
                                      : Handler::MemoryInitOp,
           at);
      operands(d, s);
      operands(n, ins.index);
      return;
    }
    case Opcode::DataDrop:
      emit(Handler::DataDropOp, at);
      operands(ins.index);
      return;

    case Opcode::V128Const:
    case Opcode::I8x16Shuffle:
    case Opcode::I8x16ExtractLaneS:
    case Opcode::I8x16ExtractLaneU:
    case Opcode::I8x16ReplaceLane:
    case Opcode::I16x8ExtractLaneS:
    case Opcode::I16x8ExtractLaneU:
    case Opcode::I16x8ReplaceLane:
    case Opcode::I32x4ExtractLane:
    case Opcode::I32x4ReplaceLane:
    case Opcode::I64x2ExtractLane:
    case Opcode::I64x2ReplaceLane:
    case Opcode::F32x4ExtractLane:
    case Opcode::F32x4ReplaceLane:
    case Opcode::F64x2ExtractLane:
    case Opcode::F64x2ReplaceLane:
    case Opcode::V128Load8Lane:
    case Opcode::V128Load16Lane:
    case Opcode::V128Load32Lane:
    case Opcode::V128Load64Lane:
    case Opcode::V128Store8Lane:
    case Opcode::V128Store16Lane:
    case Opcode::V128Store32Lane:
    case Opcode::V128Store64Lane: return compile_simd(ins);

    default:  // an instruction the decoder knows and the interpreter does not: none today
      emit(Handler::Trap, at);
      operands(static_cast<uint32_t>(TrapCode::Unsupported), static_cast<uint32_t>(op));
      current.unreachable = true;
      stack_.resize(current.height);
      return;
  }
}

// The 0xFD instructions with immediates (vm/simd.h lists their operand cells).
void FunctionCompiler::compile_simd(const Instruction& ins) {
  const Opcode op = ins.op;
  const uint32_t at = ins.offset;
  const OpcodeInfo& info = opcode_info(op);
  switch (info.imm) {
    case ImmKind::V128: {
      const uint32_t slot = constant_slot(ins.v128);
      if (slot != kNoFixup) return push_source(slot, 2);
      const uint32_t dst = push(ValType::V128);
      emit(Handler::Const128, at);
      operands(dst);
      Cell half[2];
      std::memcpy(half, ins.v128.data(), 16);
      code_.push_back(half[0]);
      code_.push_back(half[1]);
      return;
    }
    case ImmKind::Shuffle: {
      const uint32_t b = pop();
      const uint32_t a = pop();
      const uint32_t dst = push(ValType::V128);
      emit(handler_for(op), at);
      set_producer(operands(dst, a), 0);
      operands(b);
      uint8_t masks[32];  // vm/simd.h apply_shuffle: where each lane comes from, in a or in b
      for (int i = 0; i < 16; ++i) {
        const uint8_t lane = ins.v128[i];  // validated: below 32
        masks[i] = lane < 16 ? lane : 0x80;
        masks[16 + i] = lane < 16 ? 0x80 : static_cast<uint8_t>(lane - 16);
      }
      Cell cells[4];
      std::memcpy(cells, masks, 32);
      for (const Cell& c : cells) code_.push_back(c);
      producer_end_ = here();
      return;
    }
    case ImmKind::Lane: {  // [dst|a][b|lane]
      const uint32_t b = info.sig.param_count == 2 ? pop() : 0;
      const uint32_t a = pop();
      const uint32_t dst = push(info.sig.results[0]);
      emit(handler_for(op), at);
      set_producer(operands(dst, a), 0);
      operands(b, ins.lane);
      producer_end_ = here();
      return;
    }
    case ImmKind::MemArgLane: {
      const uint32_t v = pop();
      const uint32_t addr = pop();
      const uint32_t offset = static_cast<uint32_t>(ins.memarg.offset);
      if (info.sig.result_count == 1) {  // [dst|addr][v|lane][offset]
        const uint32_t dst = push(ValType::V128);
        emit(handler_for(op), at);
        set_producer(operands(dst, addr), 0);
        operands(v, ins.lane);
        operands(offset);
        producer_end_ = here();
      } else {  // [addr|v][offset|lane]
        emit(handler_for(op), at);
        operands(addr, v);
        operands(offset, ins.lane);
      }
      return;
    }
    default: std::abort();  // compile_instruction sends only these here
  }
}

}  // namespace

std::unique_ptr<CompiledFunction> compile_function(const CompiledModule& module,
                                                   uint32_t defined_index,
                                                   const void* const* handlers) {
  return FunctionCompiler(module, defined_index).compile(handlers);
}

uint32_t CompiledFunction::code_offset_at(const Cell* pc) const {
  const uint32_t cell = static_cast<uint32_t>(pc - code.data());
  auto it = std::upper_bound(offsets.begin(), offsets.end(), std::make_pair(cell, UINT32_MAX));
  return it == offsets.begin() ? 0 : std::prev(it)->second;
}

}  // namespace warden
