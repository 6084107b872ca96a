#include "vm/snapshot.h"

#include <unordered_map>

#include "vm/store.h"

namespace warden {
namespace {

ExecError usage_error(std::string detail) {
  ExecError e;
  e.kind = ExecError::Kind::Usage;
  e.detail = "snapshot: " + std::move(detail);
  return e;
}

ExecError limit_error(std::string detail) {
  ExecError e;
  e.kind = ExecError::Kind::Limit;
  e.detail = "snapshot: " + std::move(detail);
  return e;
}

}  // namespace

uint64_t StoreSnapshot::resident_bytes() const {
  uint64_t bytes = 0;
  for (const auto& m : memories) bytes += m->resident_bytes();
  for (const auto& t : tables) bytes += t.size() * sizeof(uint64_t);
  for (const InstanceState& i : instances)
    for (const auto& e : i.elems) bytes += e.size() * sizeof(uint64_t);
  return bytes + (globals.size() + globals_hi.size()) * sizeof(uint64_t);
}

Result<std::shared_ptr<const StoreSnapshot>, ExecError> Store::snapshot(
    MemoryImage::Mode mode) const {
  if (awaiting_restore_)
    return Failure{usage_error("the store was instantiated with Segments::Skip and not restored")};
  try {
    auto snap = std::make_shared<StoreSnapshot>();
    std::unordered_map<uint64_t, uint64_t> position;  // Function address -> encoded reference
    position.reserve(functions_.size());
    snap->function_types.reserve(functions_.size());
    for (const Function& f : functions_) {
      position.emplace(reinterpret_cast<uintptr_t>(&f), snap->function_types.size() + 1);
      snap->function_types.push_back(f.type_id);
    }
    // Every reference must be one of this store's functions (or null): a host's externref is
    // not something another tenant's store may hold.
    bool foreign = false;
    auto encode = [&](uint64_t bits, bool is_funcref) -> uint64_t {
      if (bits == 0) return StoreSnapshot::kNull;
      auto it = is_funcref ? position.find(bits) : position.end();
      if (it == position.end()) {
        foreign = true;
        return StoreSnapshot::kNull;
      }
      return it->second;
    };
    for (const Instance& inst : instances_) {
      StoreSnapshot::InstanceState& state = snap->instances.emplace_back();
      state.module = inst.module.get();
      state.data_dropped = inst.data_dropped;
      const Module& m = inst.module->module();
      for (size_t i = 0; i < inst.elems.size(); ++i) {
        const bool funcref = m.elems[i].type == ValType::FuncRef;
        auto& refs = state.elems.emplace_back();
        refs.reserve(inst.elems[i].size());
        for (uint64_t r : inst.elems[i]) refs.push_back(encode(r, funcref));
      }
    }
    for (const Table& t : tables_) {
      auto& refs = snap->tables.emplace_back();
      refs.reserve(t.elements.size());
      for (uint64_t r : t.elements) refs.push_back(encode(r, t.type.element == ValType::FuncRef));
    }
    for (const Global& g : globals_) {
      snap->globals.push_back(
          is_reftype(g.type.type) ? encode(g.bits, g.type.type == ValType::FuncRef) : g.bits);
      snap->globals_hi.push_back(g.hi);
    }
    if (foreign)
      return Failure{
          usage_error("the store holds a reference the snapshot cannot carry (an "
                      "externref, or another store's function)")};
    for (const Memory& mem : memories_) {
      auto image = MemoryImage::capture({mem.data(), mem.size()}, mode);
      if (!image) return Failure{limit_error("out of host memory for a memory image")};
      snap->memories.push_back(std::move(image));
    }
    return std::shared_ptr<const StoreSnapshot>(std::move(snap));
  } catch (const std::bad_alloc&) {
    return Failure{limit_error("out of host memory")};
  }
}

Result<void, ExecError> Store::restore(const StoreSnapshot& snap) {
  try {
    // The shape: the same instances of the same modules, linked to the same functions.
    bool same = snap.instances.size() == instances_.size() &&
                snap.function_types.size() == functions_.size() &&
                snap.memories.size() == memories_.size() && snap.tables.size() == tables_.size() &&
                snap.globals.size() == globals_.size() && snap.globals_hi.size() == globals_.size();
    for (size_t i = 0; same && i < instances_.size(); ++i)
      same = snap.instances[i].module == instances_[i].module.get() &&
             snap.instances[i].elems.size() == instances_[i].elems.size() &&
             snap.instances[i].data_dropped.size() == instances_[i].data_dropped.size();
    // One pass over the functions (a deque: indexing it per reference would cost more than
    // the rest of the restore): the type check, and each function's address for decoding.
    std::vector<uint64_t> address(functions_.size() + 1, 0);  // [0]: null
    {
      size_t i = 0;
      for (const Function& f : functions_) {
        same = same && snap.function_types[i] == f.type_id;
        address[++i] = reinterpret_cast<uintptr_t>(&f);
      }
    }
    for (size_t i = 0; same && i < globals_.size(); ++i)
      same = globals_[i].type.type != ValType::FuncRef || snap.globals[i] <= functions_.size();
    if (!same)
      return Failure{
          usage_error("the store was not made like the snapshot's (other modules, "
                      "links or order)")};
    const uint64_t count = functions_.size();
    auto decode = [&](uint64_t encoded) -> uint64_t {
      return encoded > count ? 0 : address[encoded];
    };
    for (size_t i = 0; i < memories_.size(); ++i)
      if (!memories_[i].assign(*snap.memories[i]))
        return Failure{limit_error("memory " + std::to_string(i) + " of " +
                                   std::to_string(snap.memories[i]->size() / kPageSize) +
                                   " pages does not fit its maximum or the memory budget")};
    for (size_t i = 0; i < tables_.size(); ++i) {
      Table& t = tables_[i];
      const auto& refs = snap.tables[i];
      if (refs.size() < t.elements.size() ||
          (refs.size() > t.elements.size() &&
           t.grow(static_cast<uint32_t>(refs.size() - t.elements.size()), 0) < 0))
        return Failure{limit_error("table " + std::to_string(i) + " of " +
                                   std::to_string(refs.size()) +
                                   " elements does not fit its maximum or the budget")};
      uint64_t* out = t.elements.data();
      for (size_t j = 0; j < refs.size(); ++j) out[j] = decode(refs[j]);
    }
    for (size_t i = 0; i < globals_.size(); ++i) {
      Global& g = globals_[i];
      g.bits = is_reftype(g.type.type) ? decode(snap.globals[i]) : snap.globals[i];
      g.hi = snap.globals_hi[i];
    }
    for (size_t i = 0; i < instances_.size(); ++i) {
      Instance& inst = instances_[i];
      const StoreSnapshot::InstanceState& state = snap.instances[i];
      for (size_t e = 0; e < inst.elems.size(); ++e) {
        auto& refs = inst.elems[e];
        refs.resize(state.elems[e].size());
        for (size_t j = 0; j < refs.size(); ++j) refs[j] = decode(state.elems[e][j]);
      }
      inst.data_dropped = state.data_dropped;
    }
    awaiting_restore_ = false;
    return {};
  } catch (const std::bad_alloc&) {
    return Failure{limit_error("out of host memory")};
  }
}

}  // namespace warden
