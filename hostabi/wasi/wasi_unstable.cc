#include "hostabi/wasi/wasi_unstable.h"

#include <array>
#include <cstring>
#include <vector>

#include "hostabi/wasi/wasi_memory.h"

namespace warden::wasi {
namespace {

HostResult call(const HostImpl& impl, CallContext& ctx, std::span<const Value> args,
                std::span<Value> results) {
  return impl.fn ? impl.fn(impl.state, ctx, args, results) : impl.callback(ctx, args, results);
}

HostImpl adapt(HostImpl original,
               std::function<HostResult(const HostImpl&, CallContext&, std::span<const Value>,
                                        std::span<Value>)>
                   adapter) {
  return HostImpl{nullptr, nullptr,
                  [original = std::move(original), adapter = std::move(adapter)](
                      CallContext& ctx, std::span<const Value> args, std::span<Value> results) {
                    return adapter(original, ctx, args, results);
                  }};
}

HostResult errno_result(std::span<Value> results, uint32_t e) {
  results[0] = Value::i32(static_cast<int32_t>(e));
  return {};
}

// Snapshot 0's whence: cur 0, end 1, set 2; preview1's: set 0, cur 1, end 2.
HostResult fd_seek(const HostImpl& impl, CallContext& ctx, std::span<const Value> a,
                   std::span<Value> r) {
  std::array<Value, 4> args{a[0], a[1], a[2], a[3]};
  static constexpr uint32_t kToPreview1[] = {1, 2, 0};
  if (u32(a[2]) < 3) args[2] = Value::i32(static_cast<int32_t>(kToPreview1[u32(a[2])]));
  return call(impl, ctx, args, r);
}

constexpr uint32_t kFilestat0 = 56, kFilestat1 = 64;

// Preview1 writes a 64-byte filestat; snapshot 0's caller has room for 56. The call writes at a
// base 8 bytes before or after the caller's buffer as memory allows; those 8 bytes are restored.
HostResult filestat(const HostImpl& impl, size_t buf_arg, CallContext& ctx,
                    std::span<const Value> a, std::span<Value> r) {
  GuestMemory mem(ctx);
  const uint32_t buf = u32(a[buf_arg]);
  if (!mem.ok(buf, kFilestat0)) return errno_result(r, kFault);
  const bool after = mem.ok(buf, kFilestat1);
  const uint64_t base = after ? buf : uint64_t{buf} - (kFilestat1 - kFilestat0);
  const uint64_t spare = after ? uint64_t{buf} + kFilestat0 : base;  // the 8 bytes not ours
  std::array<uint8_t, 8> saved{};
  std::memcpy(saved.data(), mem.at(spare), saved.size());
  std::vector<Value> args(a.begin(), a.end());
  args[buf_arg] = Value::i32(static_cast<int32_t>(base));
  HostResult result = call(impl, ctx, args, r);
  if (u32(r[0]) == kSuccess) {
    uint8_t p1[kFilestat1], p0[kFilestat0] = {};
    std::memcpy(p1, mem.at(base), kFilestat1);
    std::memcpy(p0, p1, 17);  // dev, ino, filetype
    uint64_t nlink = 0;
    std::memcpy(&nlink, p1 + 24, 8);
    const uint32_t nlink32 = nlink > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(nlink);
    std::memcpy(p0 + 20, &nlink32, 4);
    std::memcpy(p0 + 24, p1 + 32, 32);  // size, atim, mtim, ctim
    std::memcpy(mem.at(buf), p0, kFilestat0);
  }
  std::memcpy(mem.at(spare), saved.data(), saved.size());
  return result;
}

constexpr uint32_t kSubscription0 = 56, kSubscription1 = 48;
constexpr uint32_t kMaxSubscriptions = 65536;  // as preview1's poll_oneoff

// Snapshot 0's clock subscriptions have an 8-byte identifier before clock_id. The array is
// rewritten in preview1's (smaller) layout in place for the call, then restored.
HostResult poll_oneoff(const HostImpl& impl, CallContext& ctx, std::span<const Value> a,
                       std::span<Value> r) {
  GuestMemory mem(ctx);
  const uint32_t in = u32(a[0]), count = u32(a[2]);
  if (count == 0 || count > kMaxSubscriptions) return errno_result(r, kInval);
  const uint64_t size0 = uint64_t{kSubscription0} * count;
  if (!mem.ok(in, size0)) return errno_result(r, kFault);
  std::vector<uint8_t> original(mem.at(in), mem.at(in) + size0);
  std::vector<uint8_t> converted(uint64_t{kSubscription1} * count, 0);
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* s0 = original.data() + uint64_t{kSubscription0} * i;
    uint8_t* s1 = converted.data() + uint64_t{kSubscription1} * i;
    std::memcpy(s1, s0, 9);  // userdata, tag
    if (s0[8] == 0) {
      std::memcpy(s1 + 16, s0 + 24, 4);   // clock_id
      std::memcpy(s1 + 24, s0 + 32, 18);  // timeout, precision, flags
    } else {
      std::memcpy(s1 + 16, s0 + 16, 4);  // fd
    }
  }
  std::memcpy(mem.at(in), converted.data(), converted.size());
  HostResult result = call(impl, ctx, a, r);
  std::memcpy(mem.at(in), original.data(), original.size());
  return result;
}

// Preview1's rows under snapshot 0's name, with snapshot 0's sizes where they differ (the
// gate checks pointers against them before the adapters run). sock_accept is preview1's only.
const std::vector<extism::HostFunctionInfo>& unstable_rows() {
  static const std::vector<extism::HostFunctionInfo> rows = [] {
    std::vector<extism::HostFunctionInfo> out;
    for (const extism::HostFunctionInfo& row : extism::builtin_host_functions()) {
      if (row.module != kModule || row.name == "sock_accept") continue;
      extism::HostFunctionInfo copy = row;
      copy.module = extism::kWasiUnstableModule;
      if (copy.name == "fd_filestat_get") copy.roles[1] = extism::roles::Ptr(kFilestat0);
      if (copy.name == "path_filestat_get") copy.roles[4] = extism::roles::Ptr(kFilestat0);
      if (copy.name == "poll_oneoff") copy.roles[0] = extism::roles::Array(kSubscription0, 2);
      out.push_back(std::move(copy));
    }
    return out;
  }();
  return rows;
}

}  // namespace

void define_wasi_unstable(Linker& linker, const HostImpls& impls, bool metered) {
  HostImpls adapted;
  for (const extism::HostFunctionInfo& row : unstable_rows()) {
    const HostImpl* impl = impls.find(kModule, row.name);
    if (!impl) continue;
    HostImpl copy = *impl;
    using namespace std::placeholders;
    if (row.name == "fd_seek") {
      copy = adapt(copy, fd_seek);
    } else if (row.name == "fd_filestat_get") {
      copy = adapt(copy, std::bind(filestat, _1, 1, _2, _3, _4));
    } else if (row.name == "path_filestat_get") {
      copy = adapt(copy, std::bind(filestat, _1, 4, _2, _3, _4));
    } else if (row.name == "poll_oneoff") {
      copy = adapt(copy, poll_oneoff);
    }
    adapted.add(row.module, row.name, std::move(copy));
  }
  extism::link_rows(linker, unstable_rows(), adapted, metered);
}

}  // namespace warden::wasi
