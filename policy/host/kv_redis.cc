// The Redis backend of KvStore (hiredis), for hosts on several machines: a hash per namespace
// and a running size beside it, each write and its size changed by one Lua script, so that the
// quota holds however many hosts write at once.
#include <hiredis/hiredis.h>

#include <charconv>
#include <mutex>
#include <vector>

#include "decoder/untrusted_text.h"
#include "policy/host/kv_store.h"

namespace warden::host {
namespace {

// KEYS: the namespace's hash and its size; ARGV: key, value, quota. Returns {0|-1, size}.
constexpr const char* kSetScript = R"lua(
local had = redis.call('HEXISTS', KEYS[1], ARGV[1])
local size = tonumber(redis.call('GET', KEYS[2]) or '0')
local without = size
if had == 1 then without = size - (#ARGV[1] + redis.call('HSTRLEN', KEYS[1], ARGV[1])) end
local with = without + #ARGV[1] + #ARGV[2]
if with > tonumber(ARGV[3]) then return {-1, with} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], with)
return {0, with}
)lua";

// KEYS as above; ARGV: key. Returns 1 when it existed.
constexpr const char* kEraseScript = R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local gone = #ARGV[1] + redis.call('HSTRLEN', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
local size = tonumber(redis.call('GET', KEYS[2]) or '0') - gone
if size <= 0 then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], size) end
return 1
)lua";

using Reply = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

class RedisKvStore final : public KvStore {
 public:
  RedisKvStore(std::string host, int port, KvLimits limits)
      : KvStore(limits), host_(std::move(host)), port_(port) {}
  ~RedisKvStore() override {
    if (context_) redisFree(context_);
  }

  Result<void, KvError> connect() {
    if (context_) redisFree(context_);
    const timeval timeout{2, 0};
    context_ = redisConnectWithTimeout(host_.c_str(), port_, timeout);
    if (!context_ || context_->err) {
      std::string why = context_ ? context_->errstr : "cannot allocate a connection";
      if (context_) redisFree(context_);
      context_ = nullptr;
      return Failure{KvError{KvError::Kind::Backend, "kv (redis): " + escape_untrusted(host_) +
                                                         ":" + std::to_string(port_) + ": " + why}};
    }
    const timeval command_timeout{5, 0};
    redisSetTimeout(context_, command_timeout);
    return {};
  }

  Result<std::optional<std::string>, KvError> get(std::string_view ns,
                                                  std::string_view key) override {
    std::lock_guard lock(mutex_);
    const std::string hash = hash_key(ns);
    auto reply = command({"HGET", hash, key});
    if (!reply) return Failure{reply.take_error()};
    if ((*reply)->type == REDIS_REPLY_NIL) return std::optional<std::string>();
    if ((*reply)->type != REDIS_REPLY_STRING) return unexpected(**reply);
    return std::optional<std::string>(std::string((*reply)->str, (*reply)->len));
  }

  Result<void, KvError> set(std::string_view ns, std::string_view key,
                            std::string_view value) override {
    if (auto ok = check_sizes(key, value); !ok) return ok;
    std::lock_guard lock(mutex_);
    const std::string hash = hash_key(ns), size = size_key(ns);
    const std::string quota = std::to_string(limits().max_namespace_bytes);
    auto reply = command({"EVAL", kSetScript, "2", hash, size, key, value, quota});
    if (!reply) return Failure{reply.take_error()};
    const redisReply& r = **reply;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 || r.element[0]->type != REDIS_REPLY_INTEGER)
      return unexpected(r);
    if (r.element[0]->integer < 0)
      return Failure{KvError{KvError::Kind::Quota, "kv: the namespace would hold " +
                                                       std::to_string(r.element[1]->integer) +
                                                       " bytes; its quota is " + quota}};
    return {};
  }

  Result<bool, KvError> erase(std::string_view ns, std::string_view key) override {
    std::lock_guard lock(mutex_);
    const std::string hash = hash_key(ns), size = size_key(ns);
    auto reply = command({"EVAL", kEraseScript, "2", hash, size, key});
    if (!reply) return Failure{reply.take_error()};
    if ((*reply)->type != REDIS_REPLY_INTEGER) return unexpected(**reply);
    return (*reply)->integer == 1;
  }

  Result<uint64_t, KvError> namespace_bytes(std::string_view ns) override {
    std::lock_guard lock(mutex_);
    auto reply = command({"GET", size_key(ns)});
    if (!reply) return Failure{reply.take_error()};
    if ((*reply)->type == REDIS_REPLY_NIL) return uint64_t{0};
    if ((*reply)->type != REDIS_REPLY_STRING) return unexpected(**reply);
    uint64_t n = 0;
    std::from_chars((*reply)->str, (*reply)->str + (*reply)->len, n);
    return n;
  }

 private:
  // Keys are binary-safe: the namespace (with its NULs) follows a prefix.
  static std::string hash_key(std::string_view ns) { return "warden:kv:" + std::string(ns); }
  static std::string size_key(std::string_view ns) { return "warden:kv-size:" + std::string(ns); }

  Failure<KvError> unexpected(const redisReply& r) const {
    std::string what =
        r.type == REDIS_REPLY_ERROR ? std::string(r.str, r.len) : "an unexpected reply";
    return Failure{KvError{KvError::Kind::Backend, "kv (redis): " + escape_untrusted(what, 512)}};
  }

  // One command, binary-safe; after a lost connection, one reconnect and retry.
  Result<Reply, KvError> command(std::initializer_list<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (std::string_view a : args) {
      argv.push_back(a.data() ? a.data() : "");
      lengths.push_back(a.size());
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!context_)
        if (auto ok = connect(); !ok) return Failure{ok.take_error()};
      auto* raw = static_cast<redisReply*>(
          redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
      if (raw) return Reply(raw, freeReplyObject);
      redisFree(context_);  // the connection is unusable after an error
      context_ = nullptr;
    }
    return Failure{KvError{KvError::Kind::Backend, "kv (redis): " + escape_untrusted(host_) + ":" +
                                                       std::to_string(port_) +
                                                       ": the connection failed"}};
  }

  std::string host_;
  int port_;
  redisContext* context_ = nullptr;
  std::mutex mutex_;
};

}  // namespace

Result<std::unique_ptr<KvStore>, KvError> open_redis_store(const std::string& host, int port,
                                                           KvLimits limits) {
  auto store = std::make_unique<RedisKvStore>(host, port, limits);
  if (auto ok = store->connect(); !ok) return Failure{ok.take_error()};
  return std::unique_ptr<KvStore>(std::move(store));
}

}  // namespace warden::host
