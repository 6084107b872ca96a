// The SQLite backend of KvStore: table kv (ns, k, v) and a running size per namespace, updated
// in the same transaction as the write it accounts for.
#include <sqlite3.h>

#include <mutex>

#include "decoder/untrusted_text.h"
#include "policy/host/kv_store.h"

namespace warden::host {

Result<void, KvError> KvStore::check_sizes(std::string_view key, std::string_view value) const {
  if (key.empty() || key.size() > limits_.max_key_bytes)
    return Failure{KvError{KvError::Kind::TooLarge,
                           "kv: a key is 1 to " + std::to_string(limits_.max_key_bytes) +
                               " bytes, this one " + std::to_string(key.size())}};
  if (value.size() > limits_.max_value_bytes)
    return Failure{KvError{KvError::Kind::TooLarge,
                           "kv: a value is at most " + std::to_string(limits_.max_value_bytes) +
                               " bytes, this one " + std::to_string(value.size())}};
  return {};
}

namespace {

class SqliteKvStore final : public KvStore {
 public:
  SqliteKvStore(sqlite3* db, KvLimits limits) : KvStore(limits), db_(db) {}
  ~SqliteKvStore() override {
    for (sqlite3_stmt* s : {get_, put_, del_, size_, set_size_, old_}) sqlite3_finalize(s);
    sqlite3_close(db_);
  }

  Result<void, KvError> prepare() {
    const char* schema =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "CREATE TABLE IF NOT EXISTS kv (ns BLOB NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL,"
        "  PRIMARY KEY (ns, k)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS kv_size (ns BLOB PRIMARY KEY, bytes INTEGER NOT NULL)"
        "  WITHOUT ROWID;";
    if (sqlite3_exec(db_, schema, nullptr, nullptr, nullptr) != SQLITE_OK) return fail();
    const std::pair<sqlite3_stmt**, const char*> statements[] = {
        {&get_, "SELECT v FROM kv WHERE ns = ?1 AND k = ?2"},
        {&put_,
         "INSERT INTO kv (ns, k, v) VALUES (?1, ?2, ?3)"
         " ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v"},
        {&del_, "DELETE FROM kv WHERE ns = ?1 AND k = ?2"},
        {&size_, "SELECT bytes FROM kv_size WHERE ns = ?1"},
        {&set_size_,
         "INSERT INTO kv_size (ns, bytes) VALUES (?1, ?2)"
         " ON CONFLICT (ns) DO UPDATE SET bytes = excluded.bytes"},
        {&old_, "SELECT length(v) FROM kv WHERE ns = ?1 AND k = ?2"},
    };
    for (auto [stmt, sql] : statements)
      if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK)
        return fail();
    return {};
  }

  Result<std::optional<std::string>, KvError> get(std::string_view ns,
                                                  std::string_view key) override {
    std::lock_guard lock(mutex_);
    Statement s(get_, {ns, key});
    const int rc = sqlite3_step(get_);
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return fail();
    const auto* data = static_cast<const char*>(sqlite3_column_blob(get_, 0));
    return std::optional<std::string>(
        std::string(data ? data : "", static_cast<size_t>(sqlite3_column_bytes(get_, 0))));
  }

  Result<void, KvError> set(std::string_view ns, std::string_view key,
                            std::string_view value) override {
    if (auto ok = check_sizes(key, value); !ok) return ok;
    std::lock_guard lock(mutex_);
    if (!exec("BEGIN IMMEDIATE")) return fail();
    auto done = [&](Result<void, KvError> r) {
      exec(r ? "COMMIT" : "ROLLBACK");
      return r;
    };
    auto size = size_locked(ns);
    if (!size) return done(Failure{size.take_error()});
    auto old = old_length_locked(ns, key);
    if (!old) return done(Failure{old.take_error()});
    const uint64_t without = *size - std::min<uint64_t>(*size, *old ? key.size() + **old : 0);
    const uint64_t with = without + key.size() + value.size();
    if (with > limits().max_namespace_bytes)
      return done(
          Failure{KvError{KvError::Kind::Quota, "kv: the namespace would hold " +
                                                    std::to_string(with) + " bytes; its quota is " +
                                                    std::to_string(limits().max_namespace_bytes)}});
    {
      Statement s(put_, {ns, key, value});
      if (sqlite3_step(put_) != SQLITE_DONE) return done(fail());
    }
    return done(set_size_locked(ns, with));
  }

  Result<bool, KvError> erase(std::string_view ns, std::string_view key) override {
    std::lock_guard lock(mutex_);
    if (!exec("BEGIN IMMEDIATE")) return fail();
    auto old = old_length_locked(ns, key);
    auto size = size_locked(ns);
    if (!old || !size || !*old) {
      exec("ROLLBACK");
      if (!old) return Failure{old.take_error()};
      if (!size) return Failure{size.take_error()};
      return false;
    }
    {
      Statement s(del_, {ns, key});
      if (sqlite3_step(del_) != SQLITE_DONE) {
        auto e = fail();  // the message before ROLLBACK replaces it
        exec("ROLLBACK");
        return e;
      }
    }
    auto updated = set_size_locked(ns, *size - std::min<uint64_t>(*size, key.size() + **old));
    exec(updated ? "COMMIT" : "ROLLBACK");
    if (!updated) return Failure{updated.take_error()};
    return true;
  }

  Result<uint64_t, KvError> namespace_bytes(std::string_view ns) override {
    std::lock_guard lock(mutex_);
    return size_locked(ns);
  }

 private:
  // Binds blobs to a statement for one step, and resets it after.
  struct Statement {
    sqlite3_stmt* s;
    Statement(sqlite3_stmt* stmt, std::initializer_list<std::string_view> blobs) : s(stmt) {
      int i = 0;
      for (std::string_view b :
           blobs)  // an empty blob is "", never NULL (the columns are NOT NULL)
        sqlite3_bind_blob64(s, ++i, b.empty() ? "" : b.data(), b.size(), SQLITE_STATIC);
    }
    ~Statement() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  };

  Failure<KvError> fail() const {
    return Failure{
        KvError{KvError::Kind::Backend, std::string("kv (sqlite): ") + sqlite3_errmsg(db_)}};
  }
  bool exec(const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  }

  Result<uint64_t, KvError> size_locked(std::string_view ns) {
    Statement s(size_, {ns});
    const int rc = sqlite3_step(size_);
    if (rc == SQLITE_DONE) return uint64_t{0};
    if (rc != SQLITE_ROW) return fail();
    return static_cast<uint64_t>(sqlite3_column_int64(size_, 0));
  }
  Result<std::optional<uint64_t>, KvError> old_length_locked(std::string_view ns,
                                                             std::string_view key) {
    Statement s(old_, {ns, key});
    const int rc = sqlite3_step(old_);
    if (rc == SQLITE_DONE) return std::optional<uint64_t>();
    if (rc != SQLITE_ROW) return fail();
    return std::optional<uint64_t>(static_cast<uint64_t>(sqlite3_column_int64(old_, 0)));
  }
  Result<void, KvError> set_size_locked(std::string_view ns, uint64_t bytes) {
    Statement s(set_size_, {ns});
    sqlite3_bind_int64(set_size_, 2, static_cast<sqlite3_int64>(bytes));
    if (sqlite3_step(set_size_) != SQLITE_DONE) return fail();
    return {};
  }

  sqlite3* db_;
  std::mutex mutex_;
  sqlite3_stmt *get_ = nullptr, *put_ = nullptr, *del_ = nullptr, *size_ = nullptr,
               *set_size_ = nullptr, *old_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<KvStore>, KvError> open_sqlite_store(const std::string& path,
                                                            KvLimits limits) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "kv (sqlite): " + escape_untrusted(path) + ": " +
                          (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return Failure{KvError{KvError::Kind::Backend, std::move(message)}};
  }
  sqlite3_busy_timeout(db, 5000);
  auto store = std::make_unique<SqliteKvStore>(db, limits);
  if (auto ok = store->prepare(); !ok) {
    KvError e = ok.take_error();
    e.message = "kv (sqlite): " + escape_untrusted(path) + ": " + e.message.substr(13);
    return Failure{std::move(e)};
  }
  return std::unique_ptr<KvStore>(std::move(store));
}

}  // namespace warden::host
