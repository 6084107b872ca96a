#include "vm/store.h"

#include <algorithm>
#include <cstring>

#include "decoder/instruction_reader.h"
#include "decoder/limits.h"
#include "vm/interpreter.h"
#include "decoder/untrusted_text.h"

namespace warden {
namespace {

ExecError link_error(std::string detail) {
  ExecError e;
  e.kind = ExecError::Kind::Link;
  e.detail = std::move(detail);
  return e;
}

// "memory of 70000 pages exceeds the budget of 100 pages"
ExecError limit_error(const char* what, uint64_t wanted, const char* verb, uint64_t limit,
                      const char* unit) {
  ExecError e;
  e.kind = ExecError::Kind::Limit;
  e.detail = std::string(what) + " " + std::to_string(wanted) + " " + verb + " " +
             std::to_string(limit) + unit;
  return e;
}

ExecError trap_error(TrapCode code) {
  ExecError e;
  e.kind = ExecError::Kind::Trap;
  e.trap = code;
  return e;
}

std::string import_name(const Import& im) {
  return quote_untrusted(im.module) + "." + quote_untrusted(im.name);
}

bool limits_match(uint64_t actual_min, std::optional<uint64_t> actual_max, const Limits& wanted) {
  if (actual_min < wanted.min) return false;
  if (wanted.max) return actual_max && *actual_max <= *wanted.max;
  return true;
}

}  // namespace

Store::Store(const Engine& engine) : engine_(engine) {
  table_account_.elements_left = engine.config().max_store_table_elements;
}

Store::~Store() {
  {
    std::lock_guard lock(deadline_mutex_);
    stopping_ = true;
  }
  deadline_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void Store::set_deadline(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(deadline_mutex_);
    deadline_ = std::chrono::steady_clock::now() + timeout;
    deadline_set_ = true;
  }
  start_watchdog();
}

void Store::set_watch(std::function<bool()> over, std::chrono::milliseconds period) {
  {
    std::lock_guard lock(deadline_mutex_);
    watch_ = std::move(over);
    watch_period_ = std::max(period, std::chrono::milliseconds(1));
    next_watch_ = std::chrono::steady_clock::now() + watch_period_;
  }
  start_watchdog();
}

// One thread per store, started by the first deadline or watch: it sleeps until the deadline or
// the next watch, whichever is first, and sets the interrupt flag the interpreter polls.
void Store::start_watchdog() {
  if (!watchdog_.joinable()) {
    watchdog_ = std::thread([this] {
      std::unique_lock lock(deadline_mutex_);
      while (!stopping_) {
        if (!deadline_set_ && !watch_) {
          deadline_cv_.wait(lock);
          continue;
        }
        auto wake = deadline_set_ ? deadline_ : next_watch_;
        if (watch_ && next_watch_ < wake) wake = next_watch_;
        deadline_cv_.wait_until(lock, wake);
        const auto now = std::chrono::steady_clock::now();
        if (deadline_set_ && now >= deadline_) {
          deadline_set_ = false;
          interrupt_reason_.store(kDeadline, std::memory_order_relaxed);
        }
        if (watch_ && now >= next_watch_) {
          if (watch_()) {
            watch_ = nullptr;
            interrupt_reason_.store(kWatch, std::memory_order_relaxed);
          } else {
            next_watch_ = now + watch_period_;
          }
        }
      }
    });
  }
  deadline_cv_.notify_all();
}

void Store::clear_deadline() {
  {
    std::lock_guard lock(deadline_mutex_);
    deadline_set_ = false;
  }
  uint32_t expected = kDeadline;
  interrupt_reason_.compare_exchange_strong(expected, 0);
  deadline_cv_.notify_all();
}

void Store::clear_watch() {
  std::function<bool()> old;
  {
    std::lock_guard lock(deadline_mutex_);
    old = std::move(watch_);
    watch_ = nullptr;
  }
  uint32_t expected = kWatch;
  interrupt_reason_.compare_exchange_strong(expected, 0);
  deadline_cv_.notify_all();
}

Memory* Store::create_memory_unallocated(MemoryType type) {
  const uint64_t max_pages = std::min<uint64_t>(type.limits.max.value_or(limits::kMaxMemoryPages),
                                                engine_.config().max_memory_pages);
  if (type.limits.min > max_pages) return nullptr;
  Memory& m = memories_.emplace_back();
  m.type = type;
  m.max_pages = static_cast<uint32_t>(max_pages);
  m.budget = budget_;
  return &m;
}

Memory* Store::create_memory(MemoryType type) {
  Memory* made = create_memory_unallocated(type);
  if (!made) return nullptr;
  Memory& m = *made;
  // The initial pages are allocated (and charged) like a growth; a failure is an error, never a
  // smaller memory.
  if (type.limits.min > 0 && m.grow(static_cast<uint32_t>(type.limits.min)) < 0) {
    memories_.pop_back();
    return nullptr;
  }
  return &m;
}

Table* Store::create_table(TableType type, uint64_t init) {
  const uint64_t max_elements =
      std::min<uint64_t>(type.limits.max.value_or(UINT32_MAX), engine_.config().max_table_elements);
  if (type.limits.min > max_elements || tables_.size() >= engine_.config().max_tables)
    return nullptr;
  Table& t = tables_.emplace_back();
  t.type = type;
  t.max_elements = static_cast<uint32_t>(max_elements);
  t.account = &table_account_;
  if (type.limits.min > 0 && t.grow(static_cast<uint32_t>(type.limits.min), init) < 0) {
    tables_.pop_back();
    return nullptr;
  }
  return &t;
}

Global* Store::create_global(GlobalType type, Value value) {
  Global& g = globals_.emplace_back();
  g.type = type;
  g.bits = value.bits;
  g.hi = value.hi;
  return &g;
}

Function* Store::create_function(std::shared_ptr<const HostFunction> host) {
  Function& f = functions_.emplace_back();
  f.type = &host->type;
  f.type_id = engine_.type_id(host->type);
  f.host = std::move(host);
  return &f;
}

Function* Store::host_function_for(const std::shared_ptr<const HostFunction>& host) {
  auto it = host_functions_.find(host.get());
  if (it != host_functions_.end()) return it->second;
  Function* f = create_function(host);
  host_functions_.emplace(host.get(), f);
  return f;
}

namespace {

// Evaluates a constant expression (validated: consts, ref.null, ref.func, global.get).
Value evaluate(const Instance& instance, const ConstExpr& expr) {
  const Module& m = instance.module->module();
  const auto bytes = std::span<const uint8_t>(m.bytes).subspan(expr.range.offset, expr.range.size);
  InstructionReader reader(bytes, expr.range.offset, instance.module->engine().config().features);
  Instruction ins;
  Value value;
  while (!reader.at_end() && reader.read(ins)) {
    switch (ins.op) {
      case Opcode::I32Const: value = Value::i32(ins.i32); break;
      case Opcode::I64Const: value = Value::i64(ins.i64); break;
      case Opcode::F32Const: value = Value::f32_bits(ins.f32_bits); break;
      case Opcode::F64Const: value = Value::f64_bits(ins.f64_bits); break;
      case Opcode::V128Const: {
        uint64_t half[2];
        std::memcpy(half, ins.v128.data(), 16);
        value = Value::v128(half[0], half[1]);
        break;
      }
      case Opcode::RefNull: value = Value{ValType::FuncRef, 0}; break;
      case Opcode::RefFunc: value = Value::funcref(instance.functions[ins.index]); break;
      case Opcode::GlobalGet: value = instance.globals[ins.index]->value(); break;
      default: break;  // end
    }
  }
  return value;
}

}  // namespace

// No std::bad_alloc leaves the Store: whatever the host cannot allocate fails the instantiation
// or the call with a Limit error.
static ExecError out_of_host_memory(const char* during) {
  ExecError e;
  e.kind = ExecError::Kind::Limit;
  e.detail = std::string("out of host memory ") + during;
  return e;
}

Result<Instance*, ExecError> Store::instantiate(std::shared_ptr<const CompiledModule> compiled,
                                                const Linker& linker, Segments segments) {
  try {
    return instantiate_unguarded(std::move(compiled), linker, segments);
  } catch (const std::bad_alloc&) {
    return Failure{out_of_host_memory("while instantiating")};
  }
}

Result<std::vector<Value>, ExecError> Store::call(const Function& function,
                                                  std::span<const Value> args) {
  try {
    return call_unguarded(function, args);
  } catch (const std::bad_alloc&) {
    return Failure{out_of_host_memory("during the call")};
  }
}

Result<Instance*, ExecError> Store::instantiate_unguarded(
    std::shared_ptr<const CompiledModule> compiled, const Linker& linker, Segments segments) {
  const Module& m = compiled->module();
  Instance& inst = instances_.emplace_back();
  inst.store = this;
  inst.module = compiled;

  // Imports, in order, each checked against what the module expects.
  for (const Import& im : m.imports) {
    const Linker::Definition* d = linker.find(im.module, im.name);
    Linker::Definition made;
    if (!d && im.kind == ExternKind::Func) {
      made.host = linker.fallback(im.module, im.name, m.types[im.func_type.value]);
      if (made.host) d = &made;
    }
    if (!d) return Failure{link_error("unknown import " + import_name(im))};
    const ExternKind kind = d->host ? ExternKind::Func : d->external.kind;
    if (kind != im.kind) {
      return Failure{link_error("incompatible import type for " + import_name(im) + ": expected " +
                                std::string(extern_kind_name(im.kind)) + ", got " +
                                std::string(extern_kind_name(kind)))};
    }
    switch (im.kind) {
      case ExternKind::Func: {
        Function* f = d->host ? host_function_for(d->host) : d->external.function;
        if (f->type_id != compiled->type_id(im.func_type.value)) {
          return Failure{link_error("incompatible import type for " + import_name(im) +
                                    ": expected " + to_string(m.types[im.func_type.value]) +
                                    ", got " + to_string(*f->type))};
        }
        inst.functions.push_back(f);
        break;
      }
      case ExternKind::Table: {
        Table* t = d->external.table;
        if (t->type.element != im.table.element ||
            !limits_match(t->elements.size(), t->type.limits.max, im.table.limits)) {
          return Failure{link_error("incompatible import type for " + import_name(im))};
        }
        inst.tables.push_back(t);
        break;
      }
      case ExternKind::Memory: {
        Memory* mem = d->external.memory;
        if (!limits_match(mem->pages(), mem->type.limits.max, im.memory.limits)) {
          return Failure{link_error("incompatible import type for " + import_name(im))};
        }
        inst.memories.push_back(mem);
        break;
      }
      case ExternKind::Global: {
        Global* g = d->external.global;
        if (g->type.type != im.global.type || g->type.is_mutable != im.global.is_mutable) {
          return Failure{link_error("incompatible import type for " + import_name(im))};
        }
        inst.globals.push_back(g);
        break;
      }
    }
  }

  // The module's own objects.
  for (uint32_t i = m.functions_imported; i < m.functions.size(); ++i) {
    Function& f = functions_.emplace_back();
    f.type = &m.types[m.functions[i].value];
    f.type_id = compiled->type_id(m.functions[i].value);
    f.instance = &inst;
    f.index = i;
    inst.functions.push_back(&f);
  }
  // Every limit is checked for the whole module before anything is allocated.
  const EngineConfig& config = engine_.config();
  uint64_t table_elements = 0, initial_bytes = 0;
  for (size_t i = m.tables_imported; i < m.tables.size(); ++i) {
    const uint64_t min = m.tables[i].limits.min;
    if (min > config.max_table_elements) {
      return Failure{limit_error("table of", min, "elements exceeds the limit of",
                                 config.max_table_elements, " elements per table")};
    }
    table_elements += min;
    initial_bytes += min * sizeof(uint64_t);
  }
  if (const uint64_t count = tables_.size() + (m.tables.size() - m.tables_imported);
      count > config.max_tables) {
    return Failure{limit_error("a store of", count, "tables exceeds the limit of",
                               config.max_tables, " tables")};
  }
  if (table_elements > table_account_.elements_left) {
    return Failure{limit_error("tables of", table_elements, "elements in all exceed the",
                               table_account_.elements_left, " elements left in this store")};
  }
  for (size_t i = m.memories_imported; i < m.memories.size(); ++i) {
    const uint64_t min = m.memories[i].limits.min;
    if (min > config.max_memory_pages) {
      return Failure{limit_error("memory of", min, "pages exceeds the limit of",
                                 config.max_memory_pages, " pages")};
    }
    initial_bytes += min * kPageSize;
  }
  if (budget_ && initial_bytes > budget_->left()) {
    budget_->exhausted = true;
    return Failure{limit_error("initial memories and tables of", initial_bytes,
                               "bytes exceed the memory budget of", budget_->left(),
                               " bytes left")};
  }
  for (size_t i = m.tables_imported; i < m.tables.size(); ++i) {
    Table* t = create_table(m.tables[i]);
    if (!t) return Failure{out_of_host_memory("for a table's initial elements")};
    inst.tables.push_back(t);
  }
  for (size_t i = m.memories_imported; i < m.memories.size(); ++i) {
    Memory* mem = segments == Segments::Skip ? create_memory_unallocated(m.memories[i])
                                             : create_memory(m.memories[i]);
    if (!mem) return Failure{out_of_host_memory("for a memory's initial pages")};
    inst.memories.push_back(mem);
  }
  for (size_t i = m.globals_imported; i < m.globals.size(); ++i) {
    Global* g = create_global(m.globals[i], Value{});
    const Value init = evaluate(inst, m.global_inits[i - m.globals_imported]);
    g->bits = init.bits;
    g->hi = init.hi;
    inst.globals.push_back(g);
  }
  for (const Export& e : m.exports) {
    Extern x;
    x.kind = e.kind;
    switch (e.kind) {
      case ExternKind::Func: x.function = inst.functions[e.index]; break;
      case ExternKind::Table: x.table = inst.tables[e.index]; break;
      case ExternKind::Memory: x.memory = inst.memories[e.index]; break;
      case ExternKind::Global: x.global = inst.globals[e.index]; break;
    }
    inst.exports.emplace(e.name, x);
  }
  for (const ElemSegment& seg : m.elems) {
    std::vector<uint64_t> refs;
    refs.reserve(seg.size());
    if (seg.uses_exprs) {
      for (const ConstExpr& e : seg.exprs) refs.push_back(evaluate(inst, e).bits);
    } else {
      for (FuncIdx f : seg.func_indices) {
        refs.push_back(reinterpret_cast<uintptr_t>(inst.functions[f.value]));
      }
    }
    inst.elems.push_back(std::move(refs));
  }
  inst.data_dropped.assign(m.datas.size(), false);

  inst.memory = inst.memory0();
  if (segments == Segments::Skip) {
    awaiting_restore_ = true;
    return &inst;
  }
  if (auto r = initialise(inst); !r) return Failure{r.take_error()};
  return &inst;
}

// Segment initialisation in spec order (elements, then data), then the start function.
Result<void, ExecError> Store::initialise(Instance& inst) {
  const Module& m = inst.module->module();
  for (size_t i = 0; i < m.elems.size(); ++i) {
    const ElemSegment& seg = m.elems[i];
    if (seg.mode == SegmentMode::Active) {
      Table& t = *inst.tables[seg.table.value];
      const uint64_t d = static_cast<uint32_t>(evaluate(inst, seg.offset).bits);
      const std::vector<uint64_t>& refs = inst.elems[i];
      if (d + refs.size() > t.elements.size()) {
        return Failure{trap_error(TrapCode::TableOutOfBounds)};
      }
      std::copy(refs.begin(), refs.end(), t.elements.begin() + d);
    }
    if (seg.mode != SegmentMode::Passive) inst.elems[i] = {};
  }
  for (size_t i = 0; i < m.datas.size(); ++i) {
    const DataSegment& seg = m.datas[i];
    if (seg.mode != SegmentMode::Active) continue;
    Memory& mem = *inst.memories[seg.memory.value];
    const uint64_t d = static_cast<uint32_t>(evaluate(inst, seg.offset).bits);
    if (d + seg.init.size > mem.size()) {
      return Failure{trap_error(TrapCode::MemoryOutOfBounds)};
    }
    if (seg.init.size) std::memcpy(mem.data() + d, m.bytes.data() + seg.init.offset, seg.init.size);
    inst.data_dropped[i] = true;
  }
  if (m.start) {
    auto r = call(*inst.functions[m.start->value], {});
    if (!r) return Failure{r.take_error()};
  }
  return {};
}

Result<std::vector<Value>, ExecError> Store::call_unguarded(const Function& function,
                                                            std::span<const Value> args) {
  const FuncType& type = *function.type;
  auto usage = [](std::string detail) {
    ExecError e;
    e.kind = ExecError::Kind::Usage;
    e.detail = std::move(detail);
    return e;
  };
  if (awaiting_restore_)
    return Failure{usage("the store was instantiated with Segments::Skip and not restored")};
  if (args.size() != type.params.size()) {
    return Failure{usage("expected " + std::to_string(type.params.size()) + " arguments " +
                         to_string(type) + ", got " + std::to_string(args.size()))};
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].type != type.params[i]) {
      return Failure{usage("argument " + std::to_string(i + 1) + " should be " +
                           std::string(valtype_name(type.params[i])) + ", got " +
                           std::string(valtype_name(args[i].type)))};
    }
  }
  if (!value_stack_) {
    value_stack_size_ = engine_.config().value_stack_slots;
    value_stack_.reset(new uint64_t[value_stack_size_]);
    frames_.reset(new CallFrame[engine_.config().max_call_depth + 1]);  // not zeroed
  }
  // The outermost call plus max_host_reentry nested ones.
  if (call_nesting_ > engine_.config().max_host_reentry) {
    return Failure{trap_error(TrapCode::CallStackExhausted)};
  }
  const size_t need = std::max(slot_count(type.params), slot_count(type.results));
  if (stack_top_ + need > value_stack_size_) {
    return Failure{trap_error(TrapCode::CallStackExhausted)};
  }
  uint64_t* slots = value_stack_.get() + stack_top_;
  store_slots(args, slots);
  ++call_nesting_;
  auto outcome = run_function(*this, function, slots);
  --call_nesting_;
  if (!outcome) return Failure{outcome.take_error()};
  std::vector<Value> results(type.results.size());
  const uint64_t* at = slots;
  for (size_t i = 0; i < type.results.size(); ++i) at = load_slot(type.results[i], at, results[i]);
  return results;
}

Result<std::vector<Value>, ExecError> Store::call(Instance& instance, std::string_view name,
                                                  std::span<const Value> args) {
  Function* f = instance.exported_function(name);
  if (!f) {
    ExecError e;
    e.kind = ExecError::Kind::Usage;
    e.detail = "no exported function " + quote_untrusted(name);
    return Failure{std::move(e)};
  }
  return call(*f, args);
}

}  // namespace warden
