#include "policy/host/tenant_pool.h"

#include <algorithm>

#include "decoder/untrusted_text.h"

namespace warden::host {

namespace {
// The version key and the tenant, apart: a NUL cannot occur in a version key.
std::string entry_key(std::string_view key, std::string_view tenant) {
  std::string k(key);
  k += '\0';
  k += tenant;
  return k;
}

uint64_t charged(const PooledInstance& instance) {
  return instance.plugin ? instance.plugin->plugin().memory_bytes() : 0;
}
}  // namespace

TenantPool::TenantPool(PoolOptions options, Clock clock)
    : options_(options),
      clock_(clock ? std::move(clock) : [] { return std::chrono::steady_clock::now(); }) {
  if (options_.prewarm > 0) warmer_ = std::thread([this] { warmer(); });
}

TenantPool::~TenantPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_warmer_.notify_all();
  if (warmer_.joinable()) warmer_.join();
}

void TenantPool::add_version(const std::string& key, Factory factory) {
  {
    std::lock_guard lock(mutex_);
    versions_[key].factory = std::move(factory);
  }
  wake_warmer_.notify_all();
}

void TenantPool::remove_version(const std::string& key) {
  std::vector<std::shared_ptr<Entry>> dead;
  std::deque<PooledInstance> ready;
  {
    std::lock_guard lock(mutex_);
    if (auto v = versions_.find(key); v != versions_.end()) {
      ready = std::move(v->second.ready);
      for (const PooledInstance& i : ready) ready_memory_ -= std::min(ready_memory_, charged(i));
      versions_.erase(v);
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
      Entry* e = (it++)->second.get();
      if (e->key != key) continue;
      if (e->users == 0)
        drop_locked(e, dead);
      else
        e->retired = true;
    }
  }
}

void TenantPool::drop_locked(Entry* entry, std::vector<std::shared_ptr<Entry>>& dead) {
  if (!entry->in_pool) return;
  auto it = entries_.find(entry_key(entry->key, entry->tenant));
  if (it == entries_.end() || it->second.get() != entry) return;
  entry->in_pool = false;
  memory_ -= std::min(memory_, entry->memory);
  lru_.erase(entry->lru);
  dead.push_back(std::move(it->second));
  entries_.erase(it);
}

bool TenantPool::evict_one_idle_locked(std::vector<std::shared_ptr<Entry>>& dead) {
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
    if ((*it)->users != 0) continue;
    drop_locked(*it, dead);
    return true;
  }
  return false;
}

void TenantPool::enforce_memory_locked(std::vector<std::shared_ptr<Entry>>& dead) {
  while (memory_ + ready_memory_ > options_.max_memory_bytes && evict_one_idle_locked(dead))
    ++counters_.evicted_memory;
}

void TenantPool::evict_expired_locked(std::chrono::steady_clock::time_point now,
                                      std::vector<std::shared_ptr<Entry>>& dead) {
  // The LRU list is ordered by last use (acquire and release move an entry to the front), so
  // the expired entries are at its back. Collected first: dropping one erases its list node.
  std::vector<Entry*> expired;
  for (auto it = lru_.rbegin(); it != lru_.rend() && now - (*it)->last_used > options_.ttl; ++it)
    if ((*it)->users == 0) expired.push_back(*it);
  for (Entry* e : expired) {
    drop_locked(e, dead);
    ++counters_.evicted_ttl;
  }
}

void TenantPool::evict_expired() {
  std::vector<std::shared_ptr<Entry>> dead;
  std::lock_guard lock(mutex_);
  evict_expired_locked(clock_(), dead);
}

Result<TenantPool::Lease, HostError> TenantPool::acquire(const std::string& key,
                                                         std::string_view tenant) {
  std::vector<std::shared_ptr<Entry>> dead;  // destroyed after the lock is released
  std::unique_lock lock(mutex_);
  const auto now = clock_();
  evict_expired_locked(now, dead);
  // The tenant's own instance, most recently used now.
  auto reuse = [&](std::shared_ptr<Entry> e) {
    ++e->users;
    e->last_used = now;
    lru_.splice(lru_.begin(), lru_, e->lru);
    ++counters_.reused;
    lock.unlock();
    return Lease(this, std::move(e));
  };
  auto found = entries_.find(entry_key(key, tenant));
  if (found != entries_.end() && !found->second->retired) return reuse(found->second);
  auto v = versions_.find(key);
  if (v == versions_.end())
    return Failure{HostError{HostError::Kind::UnknownPlugin,
                             "no plugin version " + quote_untrusted(key) + " in the pool"}};
  // A new instance for this tenant: a pre-warmed one, else made now (outside the lock).
  PooledInstance instance;
  bool prewarmed = false;
  if (!v->second.ready.empty()) {
    instance = std::move(v->second.ready.front());
    v->second.ready.pop_front();
    ready_memory_ -= std::min(ready_memory_, charged(instance));
    prewarmed = true;
    wake_warmer_.notify_all();
  } else {
    Factory factory = v->second.factory;
    lock.unlock();
    auto made = factory();
    if (!made) return Failure{made.take_error()};
    instance = std::move(*made);
    lock.lock();
    // Meanwhile the version may have been removed, or another call of this tenant made one.
    if (versions_.find(key) == versions_.end())
      return Failure{HostError{HostError::Kind::UnknownPlugin,
                               "plugin version " + quote_untrusted(key) + " was removed"}};
    found = entries_.find(entry_key(key, tenant));
    if (found != entries_.end() && !found->second->retired) return reuse(found->second);
  }
  while (entries_.size() >= options_.max_instances) {
    if (!evict_one_idle_locked(dead))
      return Failure{HostError{HostError::Kind::PoolFull,
                               "every one of the pool's " + std::to_string(options_.max_instances) +
                                   " instances is running a call; try again"}};
    ++counters_.evicted_lru;
  }
  // A retired entry of this tenant (its version was removed and added again) makes way.
  if (auto old = entries_.find(entry_key(key, tenant)); old != entries_.end())
    drop_locked(old->second.get(), dead);
  auto e = std::make_shared<Entry>();
  e->key = key;
  e->tenant = std::string(tenant);
  e->instance = std::move(instance);
  e->instance.scope->tenant_id = e->tenant;
  e->users = 1;
  e->last_used = now;
  e->memory = charged(e->instance);
  memory_ += e->memory;
  lru_.push_front(e.get());
  e->lru = lru_.begin();
  entries_.emplace(entry_key(e->key, e->tenant), e);
  ++counters_.created;
  if (prewarmed) ++counters_.from_prewarm;
  enforce_memory_locked(dead);
  lock.unlock();
  return Lease(this, std::move(e));
}

void TenantPool::release(Entry* entry) {
  std::vector<std::shared_ptr<Entry>> dead;
  std::lock_guard lock(mutex_);
  --entry->users;
  if (!entry->in_pool) return;  // dropped while this call ran; the lease's reference ends it
  entry->last_used = clock_();
  lru_.splice(lru_.begin(), lru_, entry->lru);
  const uint64_t now_charged = charged(entry->instance);
  memory_ = memory_ - std::min(memory_, entry->memory) + now_charged;
  entry->memory = now_charged;
  if (entry->retired && entry->users == 0) drop_locked(entry, dead);
  enforce_memory_locked(dead);
}

TenantPool::Lease::~Lease() {
  if (!pool_) return;
  lock_.unlock();
  pool_->release(entry_.get());
}

PoolStats TenantPool::stats() const {
  std::lock_guard lock(mutex_);
  PoolStats s = counters_;
  s.instances = entries_.size();
  for (const auto& [key, v] : versions_) s.prewarmed += v.ready.size();
  s.memory_bytes = memory_ + ready_memory_;
  return s;
}

// Keeps every version's ready queue at options_.prewarm, one instance at a time, made outside
// the lock.
void TenantPool::warmer() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto low = std::find_if(versions_.begin(), versions_.end(), [&](const auto& v) {
      return v.second.ready.size() + v.second.warming < options_.prewarm;
    });
    if (low == versions_.end()) {
      wake_warmer_.wait(lock);
      continue;
    }
    const std::string key = low->first;
    Factory factory = low->second.factory;
    ++low->second.warming;
    lock.unlock();
    auto made = factory();
    PooledInstance orphan;  // an instance of a version removed meanwhile: dies unlocked
    lock.lock();
    auto v = versions_.find(key);
    if (v == versions_.end()) {
      if (made) orphan = std::move(*made);
    } else {
      --v->second.warming;
      if (made) {
        ready_memory_ += charged(*made);
        v->second.ready.push_back(std::move(*made));
      } else {
        // A version that cannot make instances is not retried in a loop: calls report why.
        v->second.warming = options_.prewarm;
      }
    }
    if (orphan.plugin) {
      lock.unlock();
      orphan = {};
      lock.lock();
    }
  }
}

}  // namespace warden::host
