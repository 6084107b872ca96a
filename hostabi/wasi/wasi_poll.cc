// poll_oneoff: clock subscriptions sleep until the earliest timeout, waking every 10 ms to see
// whether the call was cancelled or passed its deadline (Store::interrupt_pending), in which case
// the sleep ends early and the interpreter stops the call at its next check. fd_read/fd_write
// subscriptions are ready at once (files and stdio never block here).
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "hostabi/wasi/wasi_fd_table.h"
#include "hostabi/wasi/wasi_memory.h"
#include "vm/store.h"

namespace warden::wasi {
namespace {

using enum ValType;
using Clock = std::chrono::steady_clock;

// witx `subscription` (48 bytes): userdata u64 @0, tag u8 @8, then the union at @16:
// clock {id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40} or fd u32 @16.
// witx `event` (32 bytes): userdata u64 @0, error u16 @8, type u8 @10, fd_readwrite
// {nbytes u64 @16, flags u16 @24}.
constexpr uint32_t kSubscriptionSize = 48, kEventSize = 32;
constexpr uint8_t kTagClock = 0, kTagFdRead = 1, kTagFdWrite = 2;
constexpr uint16_t kAbstime = 1;
constexpr auto kLongestSleep = std::chrono::hours(24 * 365);
constexpr uint32_t kMaxSubscriptions = 65536;  // bounds the host's copy of them
constexpr auto kCheckEvery = std::chrono::milliseconds(10);

using Subscription = std::array<uint8_t, kSubscriptionSize>;
using Event = std::array<uint8_t, kEventSize>;

template <typename T>
T field(const Subscription& s, size_t at) {
  T v;
  std::memcpy(&v, s.data() + at, sizeof v);
  return v;
}

Event event_for(const Subscription& s, uint16_t error, uint64_t nbytes = 0) {
  Event e{};
  std::memcpy(e.data(), s.data(), 8);  // userdata
  std::memcpy(e.data() + 8, &error, 2);
  e[10] = s[8];
  std::memcpy(e.data() + 16, &nbytes, 8);
  return e;
}

uint64_t now_ns(uint32_t clock_id) {
  const auto since_epoch = clock_id == 0 ? std::chrono::system_clock::now().time_since_epoch()
                                         : Clock::now().time_since_epoch();
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
}

// When a clock subscription fires, on the steady clock.
Clock::time_point deadline_of(const Subscription& s, Clock::time_point now) {
  const uint32_t id = field<uint32_t>(s, 16);
  uint64_t delay = field<uint64_t>(s, 24);
  if (field<uint16_t>(s, 40) & kAbstime) {
    const uint64_t clock_now = now_ns(id);
    delay = delay > clock_now ? delay - clock_now : 0;
  }
  return now + std::min<Clock::duration>(
                   std::chrono::nanoseconds(std::min<uint64_t>(delay, INT64_MAX)), kLongestSleep);
}

// How many bytes an fd_read subscription could read now (0 when unknown).
uint64_t readable_bytes(FdTable& table, const Fd& fd) {
  if (fd.kind == Fd::Kind::kStdin && table.config().stdin_fd >= 0) {
    int pending = 0;
    return ::ioctl(table.config().stdin_fd, FIONREAD, &pending) == 0 && pending > 0
               ? static_cast<uint64_t>(pending)
               : 0;
  }
  if (fd.kind == Fd::Kind::kStdin) return table.config().stdin_data.size() - table.stdin_offset;
  if (!fd.is_file()) return 0;
  struct stat st {};
  const off_t pos = ::lseek(fd.host.get(), 0, SEEK_CUR);
  if (::fstat(fd.host.get(), &st) != 0 || pos < 0 || st.st_size <= pos) return 0;
  return static_cast<uint64_t>(st.st_size - pos);
}

uint32_t poll_oneoff(FdTable& table, CallContext& ctx, std::span<const Value> a) {
  GuestMemory mem(ctx);
  const uint32_t in = u32(a[0]), out = u32(a[1]), count = u32(a[2]), nevents = u32(a[3]);
  if (count == 0 || count > kMaxSubscriptions) return kInval;
  if (!mem.ok(in, uint64_t{kSubscriptionSize} * count) ||
      !mem.ok(out, uint64_t{kEventSize} * count) || !mem.ok(nevents, 4)) {
    return kFault;
  }
  // Copied first: `in` and `out` may overlap.
  std::vector<Subscription> subs(count);
  for (uint32_t i = 0; i < count; ++i)
    std::memcpy(subs[i].data(), mem.at(in + uint64_t{kSubscriptionSize} * i), kSubscriptionSize);

  const auto start = Clock::now();
  std::vector<Event> events;
  std::optional<Clock::time_point> wake;
  std::vector<std::optional<Clock::time_point>> deadlines(count);
  for (uint32_t i = 0; i < count; ++i) {
    const Subscription& s = subs[i];
    const uint8_t tag = s[8];
    if (tag == kTagClock) {
      if (field<uint32_t>(s, 16) > 3) {
        events.push_back(event_for(s, kInval));
        continue;
      }
      deadlines[i] = deadline_of(s, start);
      if (!wake || *deadlines[i] < *wake) wake = deadlines[i];
    } else if (tag == kTagFdRead || tag == kTagFdWrite) {
      std::lock_guard lock(table.mutex());
      const Fd* fd = table.get(field<uint32_t>(s, 16));
      if (!fd || (tag == kTagFdRead ? !fd->readable : !fd->writable)) {
        events.push_back(event_for(s, kBadf));
      } else {
        events.push_back(
            event_for(s, kSuccess, tag == kTagFdRead ? readable_bytes(table, *fd) : 0));
      }
    } else {
      return kInval;
    }
  }
  if (events.empty() && wake) {
    // Sleep in short steps so a cancel or the call's deadline ends the sleep promptly.
    while (!ctx.store.interrupt_pending()) {
      const auto now = Clock::now();
      if (now >= *wake) break;
      std::this_thread::sleep_for(std::min<Clock::duration>(*wake - now, kCheckEvery));
    }
    const auto now = std::max(Clock::now(), *wake);  // interrupted: report the earliest anyway
    for (uint32_t i = 0; i < count; ++i)
      if (deadlines[i] && *deadlines[i] <= now) events.push_back(event_for(subs[i], kSuccess));
  }
  for (size_t i = 0; i < events.size(); ++i)
    std::memcpy(mem.at(out + uint64_t{kEventSize} * i), events[i].data(), kEventSize);
  mem.put<uint32_t>(nevents, static_cast<uint32_t>(events.size()));
  return kSuccess;
}

}  // namespace

void define_poll(extism::HostImpls& impls, std::shared_ptr<FdTable> table) {
  impls.add(kModule, "poll_oneoff",
            extism::HostImpl{nullptr, nullptr,
                             [table](CallContext& ctx, std::span<const Value> a,
                                     std::span<Value> r) -> HostResult {
                               r[0] = Value::i32(static_cast<int32_t>(poll_oneoff(*table, ctx, a)));
                               return {};
                             }});
}

}  // namespace warden::wasi
