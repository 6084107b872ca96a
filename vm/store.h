// Store: the mutable world of one tenant: instances and their objects, the value and call stacks,
// the fuel budget and the interrupt flag. Use a Store from one thread at a time; interrupt() may be
// called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "vm/compiled_module.h"
#include "vm/linker.h"
#include "vm/memory_image.h"
#include "vm/runtime.h"

namespace warden {

struct CallFrame;
struct StoreSnapshot;

class Store {
 public:
  explicit Store(const Engine& engine);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const Engine& engine() const { return engine_; }

  // Links imports, creates the instance's objects, initialises segments in spec order and runs
  // the start function. A Link error names the import; a Trap means initialisation trapped (the
  // writes done before the trap stay, as the spec says).
  // Segments::Skip makes the objects only (no segment is applied, no start function runs, and
  // memories get their pages from the snapshot): a store made so, module for module as the
  // snapshot's was, must be restore()d before anything in it is called.
  enum class Segments { Apply, Skip };
  Result<Instance*, ExecError> instantiate(std::shared_ptr<const CompiledModule> module,
                                           const Linker& linker,
                                           Segments segments = Segments::Apply);

  // The state of every instance and object now: memory images (copy-on-write where the host
  // allows it), tables, globals, dropped segments. Usage error when it holds a host reference
  // (externref), which another store could not own.
  Result<std::shared_ptr<const StoreSnapshot>, ExecError> snapshot(
      MemoryImage::Mode mode = MemoryImage::Mode::CopyOnWrite) const;
  // Puts `snapshot` into this store, whose instances were made from the same modules, in the same
  // order, by the same links, with Segments::Skip. Usage error when the shapes differ; Limit when
  // the memories or tables do not fit the budget.
  Result<void, ExecError> restore(const StoreSnapshot& snapshot);

  // Calls `function` with `args` (types must match exactly).
  Result<std::vector<Value>, ExecError> call(const Function& function, std::span<const Value> args);
  // Calls an export of `instance` by name.
  Result<std::vector<Value>, ExecError> call(Instance& instance, std::string_view export_name,
                                             std::span<const Value> args);

  // Objects for the host to define imports with; nullptr when a limit, the budget or the host's
  // memory refuses the initial size.
  Memory* create_memory(MemoryType type);
  Table* create_table(TableType type, uint64_t init = 0);

  // The host-memory budget that every memory and table this Store creates from now on is charged
  // to (nullptr: none; the engine's limits still apply). It must outlive the Store. A module
  // whose initial memories and tables do not fit fails to instantiate with a Limit error.
  void set_budget(MemoryBudget* budget) {
    budget_ = budget;
    table_account_.budget = budget;
  }
  MemoryBudget* budget() const { return budget_; }
  // The pages of every memory this Store created (the multi-tenant host's memory figure).
  uint64_t memory_pages() const {
    uint64_t pages = 0;
    for (const Memory& m : memories_) pages += m.pages();
    return pages;
  }
  Global* create_global(GlobalType type, Value value);
  Function* create_function(std::shared_ptr<const HostFunction> host);

  // Fuel: only meaningful when the Engine compiles metering in. A call that runs out stops with
  // ExecError::Kind::OutOfFuel; what is left is readable afterwards.
  void set_fuel(uint64_t fuel) { fuel_ = static_cast<int64_t>(fuel); }
  uint64_t fuel() const { return fuel_ < 0 ? 0 : static_cast<uint64_t>(fuel_); }
  // For host functions that cost fuel: takes `units`, or empties the budget and returns false.
  bool consume_fuel(uint64_t units) {
    if (fuel_ < 0 || static_cast<uint64_t>(fuel_) < units) {
      fuel_ = 0;
      return false;
    }
    fuel_ -= static_cast<int64_t>(units);
    return true;
  }

  // Stops the running call (or the next one) at its next loop back-edge or call. Thread-safe.
  void interrupt() { interrupt_reason_.store(kCancelled, std::memory_order_relaxed); }
  // True once interrupt() was called or the deadline passed, until the interrupted call returns.
  // Host functions that block (sleeping, network) poll it so a timeout also covers them.
  bool interrupt_pending() const { return interrupt_reason_.load(std::memory_order_relaxed) != 0; }
  // Forgets an interrupt() that no call has seen yet.
  void clear_interrupt() {
    uint32_t expected = kCancelled;
    interrupt_reason_.compare_exchange_strong(expected, 0);
  }
  // Interrupts when `timeout` has passed from now; replaces any earlier deadline.
  void set_deadline(std::chrono::milliseconds timeout);
  void clear_deadline();
  // Interrupts once `over()` returns true, asked by the deadline's watchdog thread every
  // `period` (a CPU-time quota, say); replaces any earlier watch. `over` must be thread-safe.
  void set_watch(std::function<bool()> over, std::chrono::milliseconds period);
  void clear_watch();

 private:
  friend class Interpreter;
  static constexpr uint32_t kCancelled = 1, kDeadline = 2, kWatch = 3;
  void start_watchdog();

  Function* host_function_for(const std::shared_ptr<const HostFunction>& host);
  Result<void, ExecError> initialise(Instance& instance);
  // A memory of no pages (yet): its type, maximum and budget only.
  Memory* create_memory_unallocated(MemoryType type);
  Result<Instance*, ExecError> instantiate_unguarded(std::shared_ptr<const CompiledModule> module,
                                                     const Linker& linker, Segments segments);
  Result<std::vector<Value>, ExecError> call_unguarded(const Function& function,
                                                       std::span<const Value> args);

  const Engine& engine_;
  std::deque<Instance> instances_;
  std::deque<Function> functions_;
  std::deque<Memory> memories_;
  std::deque<Table> tables_;
  std::deque<Global> globals_;
  std::map<const HostFunction*, Function*> host_functions_;
  MemoryBudget* budget_ = nullptr;
  TableAccount table_account_;  // elements_left starts at the engine's per-store limit
  // Set by an instantiation with Segments::Skip, whose memories have no pages yet (restore()
  // maps them): nothing runs in the store until a restore succeeds.
  bool awaiting_restore_ = false;

  // Execution state, shared by nested calls (host -> guest -> host -> guest).
  // Allocated on the first call, not zeroed: every slot is written before it is read.
  std::unique_ptr<uint64_t[]> value_stack_;
  size_t value_stack_size_ = 0;
  std::unique_ptr<CallFrame[]> frames_;  // max_call_depth + 1, allocated with the value stack
  size_t frame_top_ = 0;           // frames in use
  size_t stack_top_ = 0;           // first free value-stack slot for a new host entry
  uint32_t call_nesting_ = 0;      // Store::call()s running, one inside the other
  int64_t fuel_ = 0;
  std::atomic<uint32_t> interrupt_reason_{0};

  // Deadline watchdog.
  std::mutex deadline_mutex_;
  std::condition_variable deadline_cv_;
  std::chrono::steady_clock::time_point deadline_{};
  bool deadline_set_ = false;
  std::function<bool()> watch_;
  std::chrono::milliseconds watch_period_{0};
  std::chrono::steady_clock::time_point next_watch_{};
  bool stopping_ = false;
  std::thread watchdog_;
};

}  // namespace warden
