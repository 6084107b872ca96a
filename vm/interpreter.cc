#include "vm/interpreter.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <new>

#include "decoder/untrusted_text.h"
#include "vm/bulk_ops.h"
#include "vm/compiled_module.h"
#include "vm/numeric.h"
#include "vm/simd.h"
#include "vm/store.h"

#if !defined(WARDEN_SWITCH_DISPATCH) && !defined(__GNUC__)
#define WARDEN_SWITCH_DISPATCH 1
#endif

#if defined(__GNUC__)
#define WARDEN_INLINE inline __attribute__((always_inline))
#else
#define WARDEN_INLINE inline
#endif

namespace warden {

// Runs a host function. No C++ exception may unwind through the dispatch loop: a host that runs
// out of memory (std::bad_alloc) fails the call with a Limit error instead.
static HostResult run_host_callback(const HostFunction& host, CallContext& ctx,
                                    std::span<const Value> args, std::span<Value> results) {
  try {
    return host.callback(ctx, args, results);
  } catch (const std::bad_alloc&) {
    ExecError e;
    e.kind = ExecError::Kind::Limit;
    e.detail = "out of host memory in a host function";
    return Failure{std::move(e)};
  }
}

static_assert(std::endian::native == std::endian::little, "slots and memory assume little endian");

// WARDEN_IF_UNPREFIXED(prefix, then, else): `then` for opcodes.def rows without a prefix byte.
#define WARDEN_UNPREFIXED_0x00(then, otherwise) then
#define WARDEN_UNPREFIXED_0xFC(then, otherwise) otherwise
#define WARDEN_UNPREFIXED_0xFD(then, otherwise) otherwise
#define WARDEN_IF_UNPREFIXED(prefix, then, otherwise) WARDEN_UNPREFIXED_##prefix(then, otherwise)

namespace {

#if !defined(WARDEN_LAYOUT_NUDGE)
#define WARDEN_LAYOUT_NUDGE 0
#endif

constexpr TrapCode kNoTrap = static_cast<TrapCode>(0xFF);

// The slot representation of a value type.
template <ValType t>
using Storage =
    std::conditional_t<t == ValType::I32, uint32_t,
                       std::conditional_t<t == ValType::I64, uint64_t,
                                          std::conditional_t<t == ValType::F32, float, double>>>;

template <class T>
WARDEN_INLINE T get(const Slot* fp, uint32_t i) {
  if constexpr (std::is_same_v<T, uint32_t>) return fp[i].u32;
  if constexpr (std::is_same_v<T, uint64_t>) return fp[i].u64;
  if constexpr (std::is_same_v<T, float>) return fp[i].f32;
  if constexpr (std::is_same_v<T, double>) return fp[i].f64;
}
template <class T>
WARDEN_INLINE void put(Slot* fp, uint32_t i, T v) {
  if constexpr (std::is_same_v<T, uint32_t>) fp[i].u64 = v;  // keep i32 slots zero-extended
  if constexpr (std::is_same_v<T, uint64_t>) fp[i].u64 = v;
  if constexpr (std::is_same_v<T, float>) fp[i].f32 = v;
  if constexpr (std::is_same_v<T, double>) fp[i].f64 = v;
}

// Numeric instructions: [dst|a] (unary) or [dst|a][b] (binary), semantics from vm/numeric.h.
template <Opcode op>
WARDEN_INLINE TrapCode exec_numeric(Slot* fp, const Cell* pc) {
  using N = numeric::Numeric<op>;
  constexpr Signature sig = opcode_info(op).sig;
  if constexpr (!N::kDefined) {
    return TrapCode::Unreachable;  // never compiled
  } else {
    using R = Storage<sig.results[0]>;
    using A = Storage<sig.params[0]>;
    const uint32_t dst = pc[1].u32[0];
    const A a = get<A>(fp, pc[1].u32[1]);
    if constexpr (sig.param_count == 1) {
      if constexpr (requires(TrapCode & t) { N::apply(a, t); }) {
        TrapCode trap = kNoTrap;
        const auto r = N::apply(a, trap);
        if (trap != kNoTrap) return trap;
        put<R>(fp, dst, static_cast<R>(r));
      } else {
        put<R>(fp, dst, static_cast<R>(N::apply(a)));
      }
    } else {
      using B = Storage<sig.params[1]>;
      const B b = get<B>(fp, pc[2].u32[0]);
      if constexpr (requires(TrapCode & t) { N::apply(a, b, t); }) {
        TrapCode trap = kNoTrap;
        const auto r = N::apply(a, b, trap);
        if (trap != kNoTrap) return trap;
        put<R>(fp, dst, static_cast<R>(r));
      } else {
        put<R>(fp, dst, static_cast<R>(N::apply(a, b)));
      }
    }
    return kNoTrap;
  }
}

constexpr bool is_signed_load(Opcode op) { return opcode_info(op).text.ends_with("_s"); }

// Loads [dst|addr][offset] and stores [addr|value][offset], width and extension from the table.
template <Opcode op>
WARDEN_INLINE bool exec_memory(Slot* fp, const Cell* pc, uint8_t* mem, uint64_t mem_size) {
  constexpr OpcodeInfo info = opcode_info(op);
  if constexpr (info.imm != ImmKind::MemArg || info.prefix != 0) {
    return false;  // never compiled (SIMD memory access comes with the SIMD issue)
  } else {
    constexpr uint32_t n = info.mem_bytes;
    const uint64_t ea =
        uint64_t{fp[pc[1].u32[info.sig.result_count == 1 ? 1 : 0]].u32} + pc[2].u32[0];
    if (ea + n > mem_size) [[unlikely]]
      return false;
    if constexpr (info.sig.result_count == 1) {  // load
      constexpr ValType t = info.sig.results[0];
      const uint32_t dst = pc[1].u32[0];
      if constexpr (t == ValType::F32 || t == ValType::F64 || n == sizeof(Storage<t>)) {
        uint64_t raw = 0;
        std::memcpy(&raw, mem + ea, n);
        fp[dst].u64 = raw;
      } else {
        using U =
            std::conditional_t<n == 1, uint8_t, std::conditional_t<n == 2, uint16_t, uint32_t>>;
        using S = std::make_signed_t<U>;
        U raw;
        std::memcpy(&raw, mem + ea, n);
        using R = Storage<t>;
        if constexpr (is_signed_load(op)) {
          put<R>(fp, dst, static_cast<R>(static_cast<std::make_signed_t<R>>(static_cast<S>(raw))));
        } else {
          put<R>(fp, dst, static_cast<R>(raw));
        }
      }
    } else {  // store: the low n bytes of the value's slot
      std::memcpy(mem + ea, &fp[pc[1].u32[1]].u64, n);
    }
    return true;
  }
}

// The comparison of a fused compare-and-branch, [handler][a|b][target].
template <Opcode op>
WARDEN_INLINE bool compare(const Slot* fp, const Cell* pc) {
  if constexpr (!is_comparison(op)) {
    return false;  // never compiled
  } else {
    using N = numeric::Numeric<op>;
    constexpr Signature sig = opcode_info(op).sig;
    using A = Storage<sig.params[0]>;
    const A a = get<A>(fp, pc[1].u32[0]);
    if constexpr (sig.param_count == 1) {
      return N::apply(a) != 0;
    } else {
      return N::apply(a, get<A>(fp, pc[1].u32[1])) != 0;
    }
  }
}

// Every generated handler: scalar numeric instructions, loads and stores, and every 0xFD
// instruction but v128.const (a constant, vm/compiler.cc).
template <Opcode op>
WARDEN_INLINE TrapCode exec_generated(Slot* fp, const Cell* pc, uint8_t* mem, uint64_t mem_size) {
  constexpr OpcodeInfo info = opcode_info(op);
  if constexpr (info.prefix == 0xFD) {
    if constexpr (info.imm == ImmKind::MemArg || info.imm == ImmKind::MemArgLane) {
      return simd::apply_memory<op>(fp, pc, mem, mem_size) ? kNoTrap : TrapCode::MemoryOutOfBounds;
    } else if constexpr (info.imm == ImmKind::Lane) {
      simd::apply_lane<op>(fp, pc);
      return kNoTrap;
    } else if constexpr (info.imm == ImmKind::Shuffle) {
      simd::apply_shuffle(fp, pc);
      return kNoTrap;
    } else if constexpr (info.imm == ImmKind::None) {
      simd::apply_plain<op>(fp, pc);
      return kNoTrap;
    } else {
      return TrapCode::Unreachable;  // never compiled
    }
  } else if constexpr (info.imm == ImmKind::MemArg) {
    return exec_memory<op>(fp, pc, mem, mem_size) ? kNoTrap : TrapCode::MemoryOutOfBounds;
  } else {
    return exec_numeric<op>(fp, pc);
  }
}

// Cells per instruction for the generated handlers.
template <Opcode op>
constexpr uint32_t generated_cells() {
  constexpr OpcodeInfo info = opcode_info(op);
  if (info.prefix == 0xFD) return 1 + simd::operand_cells(op);
  if (info.imm == ImmKind::MemArg) return 3;
  return info.sig.param_count == 2 ? 3 : 2;
}

// A host function's results into slots, laid out by the declared types (whatever type the host
// put in a Value: the frame's layout must not depend on it).
void store_results(std::span<const ValType> types, std::span<const Value> values, uint64_t* slots) {
  for (size_t k = 0; k < types.size(); ++k) {
    *slots++ = values[k].bits;
    if (types[k] == ValType::V128) *slots++ = values[k].hi;
  }
}

}  // namespace

// Everything one activation of the interpreter loop needs; handlers keep the hot parts in locals.
class Interpreter {
 public:
  static const void* const* handlers() {
    static const void* const* table = Interpreter(nullptr).run(nullptr, nullptr, nullptr);
    return table;
  }

  explicit Interpreter(Store* store) : store_(store) {}

  // Runs `function` (a Wasm function) with frame `fp`. Returns nullptr normally; the handler
  // table when called with store == nullptr.
  const void* const* run(const Function* function, Slot* fp, Result<void, ExecError>* result);

 private:
  ExecError make_error(ExecError::Kind kind, TrapCode code, const Function* fn, const Cell* pc);
  const CompiledFunction& ensure_code(const Function& f);
  // Calls a host function with the arguments at `args` (results replace them). False with
  // `error` set when it fails.
  bool call_host(const Function& callee, Slot* args, Instance* caller, ExecError& error);

  Store* store_;
  size_t entry_frames_ = 0;
};

const CompiledFunction& Interpreter::ensure_code(const Function& f) {
  if (!f.code) {
    const CompiledModule& cm = *f.instance->module;
    f.code = &cm.code(f.index - cm.module().functions_imported);
  }
  return *f.code;
}

bool Interpreter::call_host(const Function& callee, Slot* args, Instance* caller,
                            ExecError& error) {
  Store& store = *store_;
  const HostFunction& host = *callee.host;
  const size_t np = host.type.params.size(), nr = host.type.results.size();
  Value small_args[16], small_results[16];
  std::vector<Value> big_args, big_results;
  std::span<Value> a(small_args, np), r(small_results, nr);
  if (np > 16) big_args.resize(np), a = big_args;
  if (nr > 16) big_results.resize(nr), r = big_results;
  const uint64_t* in = &args[0].u64;
  for (size_t k = 0; k < np; ++k) in = load_slot(host.type.params[k], in, a[k]);
  for (size_t k = 0; k < nr; ++k) r[k] = default_value(host.type.results[k]);
  // Nested calls from the host into the Store use the stacks above this frame.
  const size_t saved_top = store.stack_top_;
  store.stack_top_ =
      static_cast<size_t>(reinterpret_cast<uint64_t*>(args) - store.value_stack_.get()) +
      std::max(slot_count(host.type.params), slot_count(host.type.results));
  CallContext ctx{store, caller};
  HostResult outcome = run_host_callback(host, ctx, a, r);
  store.stack_top_ = saved_top;
  if (!outcome) {
    error = outcome.take_error();
    return false;
  }
  store_results(host.type.results, r, &args[0].u64);
  return true;
}

ExecError Interpreter::make_error(ExecError::Kind kind, TrapCode code, const Function* fn,
                                  const Cell* pc) {
  ExecError e;
  e.kind = kind;
  e.trap = code;
  auto frame = [](const Function* f, const Cell* at) {
    TrapFrame t;
    t.function_index = f->index;
    if (f->code) t.code_offset = f->code->code_offset_at(at);
    const auto& names = f->instance->module->module().names.function_names;
    // Names come from the module: escaped here, once, for every place a backtrace is shown.
    if (auto it = names.find(f->index); it != names.end())
      t.function_name = escape_untrusted(it->second, 256);
    return t;
  };
  if (fn && pc) e.backtrace.push_back(frame(fn, pc));
  auto& frames = store_->frames_;
  for (size_t i = store_->frame_top_; i-- > entry_frames_ + 1;) {
    if (frames[i].function)
      e.backtrace.push_back(frame(frames[i].function, frames[i].return_pc - 1));
  }
  return e;
}

const void* const* Interpreter::run(const Function* function, Slot* fp,
                                    Result<void, ExecError>* result) {
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) &&L_##name,
#define HANDLER(name, cells) &&L_##name,
  static const void* const kLabels[] = {
#include "decoder/opcodes.def"
#include "vm/handlers.def"
#undef OP
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) \
  WARDEN_IF_UNPREFIXED(prefix, &&L_JumpIf_##name, &&L_NoHandler),
#include "decoder/opcodes.def"
#undef OP
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) \
  WARDEN_IF_UNPREFIXED(prefix, &&L_JumpUnless_##name, &&L_NoHandler),
#include "decoder/opcodes.def"
#undef OP
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) \
  WARDEN_IF_UNPREFIXED(prefix, &&L_JumpIfFuel_##name, &&L_NoHandler),
#include "decoder/opcodes.def"
#undef OP
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) &&L_Charged_##name,
#include "decoder/opcodes.def"
  };
#undef OP
#undef HANDLER
  static_assert(std::size(kLabels) == static_cast<size_t>(Handler::Count));
  if (!store_) return kLabels;

#define TRAP_IF(condition, code) \
  if (condition) [[unlikely]] {  \
    trap = code;                 \
    goto trapped;                \
  }
// Bulk operations pay per byte or element before they touch anything.
#define CHARGE(units)                  \
  fuel -= static_cast<int64_t>(units); \
  if (fuel < 0) [[unlikely]]           \
    goto out_of_fuel;

#if defined(WARDEN_SWITCH_DISPATCH)
#define NEXT() goto dispatch
#else
#define NEXT() goto * pc->handler
#endif

  Cell exit_cell[1];
#if defined(WARDEN_SWITCH_DISPATCH)
  exit_cell[0].u64 = static_cast<uint64_t>(Handler::Exit);
#else
  exit_cell[0].handler = &&L_Exit;
#endif

  Store& store = *store_;
  const EngineConfig& config = store.engine().config();
  CallFrame* const frame_base = store.frames_.get();
  CallFrame* const frame_limit = frame_base + config.max_call_depth;
  CallFrame* top = frame_base + store.frame_top_;  // the next free frame
  Slot* const stack_end =
      reinterpret_cast<Slot*>(store.value_stack_.get() + store.value_stack_size_);
  std::atomic<uint32_t>& interrupt = store.interrupt_reason_;
  int64_t fuel = config.fuel ? store.fuel_ : std::numeric_limits<int64_t>::max();

  const Function* fn = function;
  Instance* inst = fn->instance;
  uint8_t* mem = nullptr;
  uint64_t mem_size = 0;
  TrapCode trap = TrapCode::Unreachable;
  const Cell* pc = nullptr;
  // Shared by the call handlers.
  const Function* callee = nullptr;
  Slot* callee_fp = nullptr;
  const Cell* return_pc = nullptr;
  ExecError host_error;

  auto reload_memory = [&] {
    if (Memory* m = inst->memory) {
      mem = m->data();
      mem_size = m->size();
    } else {
      mem = nullptr;
      mem_size = 0;
    }
  };

  // Benchmarking only (vm/CMakeLists.txt): N bytes of no-ops here move every handler placed
  // after the entry by N bytes without changing any instruction, to measure layout sensitivity.
  // Present with N = 0 (no bytes) too, so that every nudge has the same control flow and a
  // profile-guided build's profile fits them all.
#if !defined(WARDEN_SWITCH_DISPATCH) && (defined(__x86_64__) || defined(__i386__))
#define WARDEN_STRINGIFY2(x) #x
#define WARDEN_STRINGIFY(x) WARDEN_STRINGIFY2(x)
  asm volatile(".skip " WARDEN_STRINGIFY(WARDEN_LAYOUT_NUDGE) ", 0x90");
#endif
  entry_frames_ = store.frame_top_;
  if (top >= frame_limit) {
    trap = TrapCode::CallStackExhausted;
    fn = nullptr;
    goto trapped;
  }
  *top++ = {exit_cell, nullptr, nullptr};
  callee = fn;
  callee_fp = fp;
  return_pc = exit_cell;
  fn = nullptr;
  reload_memory();
  goto enter_wasm;

#if defined(WARDEN_SWITCH_DISPATCH)
  // clang-format off
dispatch:
  switch (static_cast<Handler>(pc->u64)) {
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) \
    case Handler::name: goto L_##name;
#define HANDLER(name, cells) \
    case Handler::name: goto L_##name;
#include "decoder/opcodes.def"
#include "vm/handlers.def"
#undef OP
#undef HANDLER
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results) \
    WARDEN_IF_UNPREFIXED(prefix, \
      case Handler::JumpIf_##name: goto L_JumpIf_##name; \
      case Handler::JumpUnless_##name: goto L_JumpUnless_##name; \
      case Handler::JumpIfFuel_##name: goto L_JumpIfFuel_##name;, ) \
    case Handler::Charged_##name: goto L_Charged_##name;
#include "decoder/opcodes.def"
#undef OP
    default: __builtin_unreachable();
  }
    // clang-format on
#endif

    // ---- generated: numeric instructions, loads and stores, SIMD ----
// (Scalar loads and stores test exec_memory's bool directly, as before SIMD: keeping the scalar
// handlers' machine code as it was.)
#define OP(prefix, code, name, text, imm, fuel, mem_bytes, params, results)   \
  L_##name : {                                                                \
    if constexpr (ImmKind::imm == ImmKind::MemArg && prefix == 0) {           \
      if (!exec_memory<Opcode::name>(fp, pc, mem, mem_size)) [[unlikely]] {   \
        trap = TrapCode::MemoryOutOfBounds;                                   \
        goto trapped;                                                         \
      }                                                                       \
    } else {                                                                  \
      const TrapCode t = exec_generated<Opcode::name>(fp, pc, mem, mem_size); \
      if (t != kNoTrap) [[unlikely]] {                                        \
        trap = t;                                                             \
        goto trapped;                                                         \
      }                                                                       \
    }                                                                         \
    pc += generated_cells<Opcode::name>();                                    \
    NEXT();                                                                   \
  }
#include "decoder/opcodes.def"
#undef OP

    // ---- generated: comparisons fused with a branch, [handler][a|b][target] ----
    // (Only unprefixed rows hold comparisons; the others' entries are L_NoHandler, which keeps
    // ~800 labels out of this function: Clang's compile time grows with their square.)
#define OP(prefix, code, name, text, imm, cost, mem_bytes, params, results) \
  WARDEN_IF_UNPREFIXED(                                                                    \
      prefix,                                                                              \
      L_JumpIf_##name : pc = compare<Opcode::name>(fp, pc) ? pc[2].target : pc + 3;        \
      NEXT();                                                                              \
      L_JumpUnless_##name : pc = compare<Opcode::name>(fp, pc) ? pc + 3 : pc[2].target;    \
      NEXT();                                                                              \
      L_JumpIfFuel_##name : if (compare<Opcode::name>(fp, pc)) {                           \
        pc = pc[2].target;                                                                 \
        NEXT();                                                                            \
      } fuel -= pc[3].u32[0];                                                              \
      pc += 4;                                                                             \
      if (fuel < 0) [[unlikely]] goto out_of_fuel;                                         \
      NEXT();                                                                              \
      , )
#include "decoder/opcodes.def"
#undef OP
L_NoHandler:  // a handler number no compiler emits
  trap = TrapCode::Unreachable;
  goto trapped;

  // ---- generated: a block's charge carried by its first instruction (cell 2, second half) ----
#define OP(prefix, code, name, text, imm, cost, mem_bytes, params, results) \
  L_Charged_##name : fuel -= pc[2].u32[1];                                  \
  if (fuel < 0) [[unlikely]]                                                \
    goto out_of_fuel;                                                       \
  goto L_##name;
#include "decoder/opcodes.def"
#undef OP

  // ---- moves and control ----
L_Copy:
  fp[pc[1].u32[0]].u64 = fp[pc[1].u32[1]].u64;
  pc += 2;
  NEXT();
L_Copy128:  // may move a v128 by one slot (over an i32's home): the ranges can overlap
  std::memmove(fp + pc[1].u32[0], fp + pc[1].u32[1], 16);
  pc += 2;
  NEXT();
L_Copy2:
  fp[pc[1].u32[0]].u64 = fp[pc[1].u32[1]].u64;
  fp[pc[2].u32[0]].u64 = fp[pc[2].u32[1]].u64;
  pc += 3;
  NEXT();
L_Const64:
  fp[pc[1].u32[0]].u64 = pc[2].u64;
  pc += 3;
  NEXT();
L_Const128:
  std::memcpy(fp + pc[1].u32[0], pc + 2, 16);
  pc += 4;
  NEXT();
L_Jump:
  pc = pc[1].target;
  NEXT();
L_JumpLoop:
  fuel -= pc[1].u32[0];
  if (fuel < 0) [[unlikely]] {
    pc = pc[2].target - 2;  // stopped at the loop header
    goto out_of_fuel;
  }
  if (interrupt.load(std::memory_order_relaxed)) [[unlikely]] {
    pc = pc[2].target - 2;
    goto interrupted;
  }
  pc = pc[2].target;
  NEXT();
L_JumpIfNonZero:
  pc = fp[pc[1].u32[0]].u32 ? pc[2].target : pc + 3;
  NEXT();
L_JumpIfNonZeroFuel:
  if (fp[pc[1].u32[0]].u32) {
    pc = pc[2].target;
    NEXT();
  }
  fuel -= pc[3].u32[0];
  pc += 4;
  if (fuel < 0) [[unlikely]]
    goto out_of_fuel;
  NEXT();
L_JumpIfZero:
  pc = fp[pc[1].u32[0]].u32 ? pc + 3 : pc[2].target;
  NEXT();
L_JumpTable : {
  const uint32_t i = std::min(fp[pc[1].u32[0]].u32, pc[1].u32[1]);
  pc = pc[2 + i].target;
  NEXT();
}
L_SelectOp:
  fp[pc[1].u32[0]].u64 = fp[pc[1].u32[1]].u32 ? fp[pc[2].u32[0]].u64 : fp[pc[2].u32[1]].u64;
  pc += 3;
  NEXT();
L_Select128:
  std::memmove(fp + pc[1].u32[0], fp + (fp[pc[1].u32[1]].u32 ? pc[2].u32[0] : pc[2].u32[1]), 16);
  pc += 3;
  NEXT();
L_Trap:
  trap = static_cast<TrapCode>(pc[1].u32[0]);
  goto trapped;
L_Fuel:
  fuel -= pc[1].u32[0];
  if (fuel < 0) [[unlikely]]
    goto out_of_fuel;
  pc += 2;
  NEXT();
L_LoopHeader:
  fuel -= pc[1].u32[0];
  if (fuel < 0) [[unlikely]]
    goto out_of_fuel;
  if (interrupt.load(std::memory_order_relaxed)) [[unlikely]]
    goto interrupted;
  pc += 2;
  NEXT();

  // ---- calls ----
L_CallWasm:
  callee = inst->functions[pc[1].u32[0]];
  callee_fp = fp + pc[1].u32[1];
  return_pc = pc + 2;
  goto call;
L_CallIndirectOp : {
  Table* table = inst->tables[pc[1].u32[0]];
  const uint32_t i = fp[pc[2].u32[0]].u32;
  TRAP_IF(i >= table->elements.size(), TrapCode::UndefinedElement);
  callee = reinterpret_cast<const Function*>(table->elements[i]);
  TRAP_IF(!callee, TrapCode::UninitializedElement);
  TRAP_IF(callee->type_id != pc[2].u32[1], TrapCode::IndirectCallTypeMismatch);
  callee_fp = fp + pc[1].u32[1];
  return_pc = pc + 3;
  goto call;
}
call:
  if (interrupt.load(std::memory_order_relaxed)) [[unlikely]]
    goto interrupted;
  if (callee->is_host()) {
    store.fuel_ = fuel;
    store.frame_top_ = static_cast<size_t>(top - frame_base);
    const bool ok = call_host(*callee, callee_fp, inst, host_error);
    if (config.fuel) fuel = store.fuel_;
    if (!ok) goto host_failed;
    reload_memory();
    pc = return_pc;
    // A deadline or cancel that arrived while the host ran ends the call here, even when no
    // Wasm call or loop follows.
    if (interrupt.load(std::memory_order_relaxed)) [[unlikely]]
      goto interrupted;
    NEXT();
  }
enter_wasm : {
  const CompiledFunction& code = ensure_code(*callee);
  if (top >= frame_limit || callee_fp + code.frame_slots > stack_end) [[unlikely]] {
    trap = TrapCode::CallStackExhausted;
    goto trapped;  // reported at the caller (or with no frame when the entry itself fails)
  }
  if (fn) *top++ = {return_pc, fp, fn};
  fp = callee_fp;
  fn = callee;
  {  // whole chunks (vm/code.h): a fixed-size copy the compiler inlines, not a libc call
    constexpr size_t chunk = CompiledFunction::kFrameInitChunk;
    const uint64_t* init = code.frame_init.data();
    Slot* locals = fp + code.param_slots;
#pragma GCC unroll 1  // 1 = no unrolling (GCC and clang); the loop runs once for most frames
    for (size_t k = 0, n = code.frame_init.size(); k < n; k += chunk)
      std::memcpy(locals + k, init + k, chunk * sizeof(uint64_t));
  }
  if (callee->instance != inst) {
    inst = callee->instance;
    reload_memory();
  }
  pc = code.code.data() + code.entry;
  fuel -= code.entry_fuel;
  if (fuel < 0) [[unlikely]]
    goto out_of_fuel;
  NEXT();
}
L_ReturnOp : {
  --top;
  pc = top->return_pc;
  fp = top->fp;
  fn = top->function;
  // The memory's base and size can only have changed by memory.grow or a host call, which
  // reload them where they happen, or by returning into another instance.
  if (fn && fn->instance != inst) {
    inst = fn->instance;
    reload_memory();
  }
  NEXT();
}
L_Exit:
  store.frame_top_ = entry_frames_;
  store.fuel_ = fuel;
  *result = Result<void, ExecError>();
  return nullptr;

  // ---- variables and references ----
L_GlobalGetOp:
  fp[pc[1].u32[0]].u64 = inst->globals[pc[1].u32[1]]->bits;
  pc += 2;
  NEXT();
L_GlobalSetOp:
  inst->globals[pc[1].u32[0]]->bits = fp[pc[1].u32[1]].u64;
  pc += 2;
  NEXT();
L_GlobalGet128 : {
  const Global& g = *inst->globals[pc[1].u32[1]];
  fp[pc[1].u32[0]].u64 = g.bits;
  fp[pc[1].u32[0] + 1].u64 = g.hi;
  pc += 2;
  NEXT();
}
L_GlobalSet128 : {
  Global& g = *inst->globals[pc[1].u32[0]];
  g.bits = fp[pc[1].u32[1]].u64;
  g.hi = fp[pc[1].u32[1] + 1].u64;
  pc += 2;
  NEXT();
}
L_RefFuncOp:
  fp[pc[1].u32[0]].u64 = reinterpret_cast<uintptr_t>(inst->functions[pc[1].u32[1]]);
  pc += 2;
  NEXT();
L_RefIsNullOp:
  fp[pc[1].u32[0]].u64 = fp[pc[1].u32[1]].u64 == 0;
  pc += 2;
  NEXT();

  // ---- tables ----
L_TableGetOp : {
  const Table& t = *inst->tables[pc[1].u32[1]];
  const uint32_t i = fp[pc[2].u32[0]].u32;
  TRAP_IF(i >= t.elements.size(), TrapCode::TableOutOfBounds);
  fp[pc[1].u32[0]].u64 = t.elements[i];
  pc += 3;
  NEXT();
}
L_TableSetOp : {
  Table& t = *inst->tables[pc[1].u32[1]];
  const uint32_t i = fp[pc[1].u32[0]].u32;
  TRAP_IF(i >= t.elements.size(), TrapCode::TableOutOfBounds);
  t.elements[i] = fp[pc[2].u32[0]].u64;
  pc += 3;
  NEXT();
}
L_TableSizeOp:
  fp[pc[1].u32[0]].u64 = static_cast<uint32_t>(inst->tables[pc[1].u32[1]]->elements.size());
  pc += 2;
  NEXT();
L_TableGrowOp:
  fp[pc[1].u32[0]].u64 = static_cast<uint32_t>(
      inst->tables[pc[1].u32[1]]->grow(fp[pc[2].u32[0]].u32, fp[pc[2].u32[1]].u64));
  pc += 3;
  NEXT();
L_TableFillOp : {
  Table& t = *inst->tables[pc[1].u32[0]];
  const uint64_t d = fp[pc[1].u32[1]].u32, n = fp[pc[2].u32[1]].u32;
  TRAP_IF(d + n > t.elements.size(), TrapCode::TableOutOfBounds);
  CHARGE(n);
  if (!bulk::fill_words(t.elements.data() + d, fp[pc[2].u32[0]].u64, n, interrupt))
    goto interrupted;
  pc += 3;
  NEXT();
}
L_TableCopyOp : {
  Table& dt = *inst->tables[pc[1].u32[0]];
  const Table& st = *inst->tables[pc[1].u32[1]];
  const uint64_t d = fp[pc[2].u32[0]].u32, s = fp[pc[2].u32[1]].u32, n = fp[pc[3].u32[0]].u32;
  TRAP_IF(d + n > dt.elements.size() || s + n > st.elements.size(), TrapCode::TableOutOfBounds);
  CHARGE(n);
  if (!bulk::move_words(dt.elements.data() + d, st.elements.data() + s, n, interrupt))
    goto interrupted;
  pc += 4;
  NEXT();
}
L_TableInitOp : {
  Table& t = *inst->tables[pc[1].u32[0]];
  const std::vector<uint64_t>& seg = inst->elems[pc[1].u32[1]];
  const uint64_t d = fp[pc[2].u32[0]].u32, s = fp[pc[2].u32[1]].u32, n = fp[pc[3].u32[0]].u32;
  TRAP_IF(d + n > t.elements.size() || s + n > seg.size(), TrapCode::TableOutOfBounds);
  CHARGE(n);
  if (!bulk::move_words(t.elements.data() + d, seg.data() + s, n, interrupt)) goto interrupted;
  pc += 4;
  NEXT();
}
L_ElemDropOp:
  inst->elems[pc[1].u32[0]] = {};
  pc += 2;
  NEXT();

  // ---- memory ----
L_MemorySizeOp:
  fp[pc[1].u32[0]].u64 = static_cast<uint32_t>(mem_size / kPageSize);
  pc += 2;
  NEXT();
L_MemoryGrowOp : {
  Memory& m = *inst->memories[0];
  const int32_t old = m.grow(fp[pc[1].u32[1]].u32);
  TRAP_IF(old < 0 && m.budget && m.budget->exhausted, TrapCode::MemoryLimit);
  fp[pc[1].u32[0]].u64 = static_cast<uint32_t>(old);
  reload_memory();
  pc += 2;
  NEXT();
}
L_MemoryFillOp : {
  const uint64_t d = fp[pc[1].u32[0]].u32, n = fp[pc[2].u32[0]].u32;
  TRAP_IF(d + n > mem_size, TrapCode::MemoryOutOfBounds);
  CHARGE(n);
  if (!bulk::fill_bytes(mem + d, static_cast<uint8_t>(fp[pc[1].u32[1]].u32), n, interrupt))
    goto interrupted;
  pc += 3;
  NEXT();
}
L_MemoryCopyOp : {
  const uint64_t d = fp[pc[1].u32[0]].u32, s = fp[pc[1].u32[1]].u32, n = fp[pc[2].u32[0]].u32;
  TRAP_IF(d + n > mem_size || s + n > mem_size, TrapCode::MemoryOutOfBounds);
  CHARGE(n);
  if (!bulk::move_bytes(mem + d, mem + s, n, interrupt)) goto interrupted;
  pc += 3;
  NEXT();
}
L_MemoryInitOp : {
  const uint32_t segment = pc[2].u32[1];
  const Module& m = inst->module->module();
  const ByteRange init = m.datas[segment].init;
  const uint64_t length = inst->data_dropped[segment] ? 0 : init.size;
  const uint64_t d = fp[pc[1].u32[0]].u32, s = fp[pc[1].u32[1]].u32, n = fp[pc[2].u32[0]].u32;
  TRAP_IF(d + n > mem_size || s + n > length, TrapCode::MemoryOutOfBounds);
  CHARGE(n);
  if (!bulk::move_bytes(mem + d, m.bytes.data() + init.offset + s, n, interrupt)) goto interrupted;
  pc += 3;
  NEXT();
}
L_DataDropOp:
  inst->data_dropped[pc[1].u32[0]] = true;
  pc += 2;
  NEXT();

  // ---- leaving early ----
trapped : {
  store.fuel_ = fuel;
  store.frame_top_ = static_cast<size_t>(top - frame_base);
  ExecError e = make_error(ExecError::Kind::Trap, trap, fn, pc);
  // An instruction the compiler has no handler for names itself (cell 1, second half).
  if (trap == TrapCode::Unsupported && pc && pc[1].u32[1] < kOpcodeCount)
    e.detail = std::string(opcode_name(static_cast<Opcode>(pc[1].u32[1])));
  *result = Failure{std::move(e)};
  store.frame_top_ = entry_frames_;
  return nullptr;
}
out_of_fuel:
  store.fuel_ = fuel;
  store.frame_top_ = static_cast<size_t>(top - frame_base);
  *result = Failure{make_error(ExecError::Kind::OutOfFuel, trap, fn, pc)};
  store.frame_top_ = entry_frames_;
  return nullptr;
interrupted : {
  store.fuel_ = fuel;
  store.frame_top_ = static_cast<size_t>(top - frame_base);
  const uint32_t reason = interrupt.exchange(0, std::memory_order_relaxed);
  ExecError e = make_error(ExecError::Kind::Interrupted, trap, fn, pc);
  e.detail = reason == Store::kDeadline ? "deadline exceeded"
             : reason == Store::kWatch  ? "stopped by the embedder's watch"
                                        : "interrupted";
  *result = Failure{std::move(e)};
  store.frame_top_ = entry_frames_;
  return nullptr;
}
host_failed : {
  store.fuel_ = fuel;
  store.frame_top_ = static_cast<size_t>(top - frame_base);
  ExecError e = make_error(host_error.kind, host_error.trap, fn, pc);
  e.detail = std::move(host_error.detail);
  e.exit_code = host_error.exit_code;
  *result = Failure{std::move(e)};
  store.frame_top_ = entry_frames_;
  return nullptr;
}
#undef NEXT
#undef TRAP_IF
#undef CHARGE
}

const void* const* threaded_handlers() {
#if defined(WARDEN_SWITCH_DISPATCH)
  return nullptr;
#else
  return Interpreter::handlers();
#endif
}

Result<void, ExecError> run_function(Store& store, const Function& function, uint64_t* slots) {
  const FuncType& type = *function.type;
  if (function.is_host()) {
    std::vector<Value> args(type.params.size()), results(type.results.size());
    const uint64_t* in = slots;
    for (size_t i = 0; i < args.size(); ++i) in = load_slot(type.params[i], in, args[i]);
    for (size_t i = 0; i < results.size(); ++i) results[i] = default_value(type.results[i]);
    CallContext ctx{store, nullptr};
    HostResult r = run_host_callback(*function.host, ctx, args, results);
    if (!r) return Failure{r.take_error()};
    store_results(type.results, results, slots);
    return {};
  }
  Result<void, ExecError> result;
  Interpreter(&store).run(&function, reinterpret_cast<Slot*>(slots), &result);
  return result;
}

}  // namespace warden
