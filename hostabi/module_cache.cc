#include "hostabi/module_cache.h"

#include <fcntl.h>
#include <link.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "decoder/untrusted_text.h"

namespace warden::extism {
namespace {

constexpr char kMagic[8] = {'W', 'A', 'R', 'D', 'E', 'N', 'M', 'C'};
constexpr uint32_t kFormat = 1;
constexpr size_t kKeyBytes = 32, kMacBytes = 32;
constexpr size_t kBlockBytes = 5 * 4, kFunctionBytes = 3 * 4;

// The GNU build id of the binary this code is linked into (hex), or empty when it has none.
std::string build_id() {
  struct Search {
    const void* address;
    std::string id;
  } search{reinterpret_cast<const void*>(&build_id), {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* s = static_cast<Search*>(data);
        const auto address = reinterpret_cast<ElfW(Addr)>(s->address);
        bool ours = false;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          const ElfW(Addr) start = info->dlpi_addr + ph.p_vaddr;
          if (ph.p_type == PT_LOAD && address >= start && address < start + ph.p_memsz) ours = true;
        }
        if (!ours) return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_NOTE) continue;
          const auto* p = reinterpret_cast<const uint8_t*>(info->dlpi_addr + ph.p_vaddr);
          const uint8_t* end = p + ph.p_memsz;
          while (p + sizeof(ElfW(Nhdr)) <= end) {
            ElfW(Nhdr) note;
            std::memcpy(&note, p, sizeof note);
            const uint8_t* name = p + sizeof note;
            const uint8_t* desc = name + ((note.n_namesz + 3) & ~3u);
            if (desc + note.n_descsz > end) break;
            if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
                std::memcmp(name, "GNU", 4) == 0) {
              static constexpr char kHex[] = "0123456789abcdef";
              for (uint32_t k = 0; k < note.n_descsz; ++k) {
                s->id += kHex[desc[k] >> 4];
                s->id += kHex[desc[k] & 15];
              }
              return 1;
            }
            p = desc + ((note.n_descsz + 3) & ~3u);
          }
        }
        return 1;
      },
      &search);
  return search.id;
}

// Without a build id, the compile time of this file stands in (a rebuild of it invalidates).
std::string default_build() {
  const std::string id = build_id();
  return std::string("warden ") + WARDEN_VERSION + " " +
         (id.empty() ? std::string("built ") + __DATE__ " " __TIME__ : "build-id " + id);
}

static_assert(sizeof(Features) == 8, "a new feature must have its bit in feature_bits");
uint32_t feature_bits(const Features& f) {
  const bool bits[] = {f.simd,
                       f.relaxed_simd,
                       f.bulk_memory,
                       f.reference_types,
                       f.multi_value,
                       f.sign_extension,
                       f.saturating_float_to_int,
                       f.multi_memory};
  uint32_t out = 0;
  for (size_t i = 0; i < std::size(bits); ++i) out |= uint32_t{bits[i]} << i;
  return out;
}

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }

struct Reader {
  std::string_view data;
  size_t at = 0;
  bool u32(uint32_t& v) {
    if (data.size() - at < 4) return false;
    std::memcpy(&v, data.data() + at, 4);
    at += 4;
    return true;
  }
  bool bytes(size_t n, std::string_view& out) {
    if (data.size() - at < n) return false;
    out = data.substr(at, n);
    at += n;
    return true;
  }
};

std::string mac(const std::string& key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

// Everything an entry says before its MAC: this build, the features, the module, the facts.
std::string entry_body(const std::string& build, const Features& features,
                       const std::string& sha256, const std::vector<ValidationFacts>& facts) {
  std::string out(kMagic, sizeof kMagic);
  put_u32(out, kFormat);
  put_u32(out, static_cast<uint32_t>(build.size()));
  out += build;
  put_u32(out, feature_bits(features));
  out += sha256;
  put_u32(out, static_cast<uint32_t>(facts.size()));
  for (const ValidationFacts& f : facts) {
    put_u32(out, f.max_stack_height);
    put_u32(out, f.max_control_depth);
    put_u32(out, static_cast<uint32_t>(f.blocks.size()));
    for (const BlockInfo& b : f.blocks) {
      for (uint32_t v : {b.offset, b.else_offset, b.end_offset, b.param_count, b.result_count})
        put_u32(out, v);
    }
  }
  return out;
}

// The facts of a valid entry, or nullopt (anything else: ignored).
std::optional<std::vector<ValidationFacts>> parse_entry(std::string_view file,
                                                        const std::string& key,
                                                        const std::string& build,
                                                        const Features& features,
                                                        const std::string& sha256) {
  if (file.size() < kMacBytes) return std::nullopt;
  const std::string_view body = file.substr(0, file.size() - kMacBytes);
  const std::string expected = mac(key, body);
  if (expected.size() != kMacBytes ||
      CRYPTO_memcmp(expected.data(), file.data() + body.size(), kMacBytes) != 0)
    return std::nullopt;  // corrupt, or another directory's (or nobody's) entry
  Reader r{body};
  std::string_view magic, entry_build, entry_sha;
  uint32_t format = 0, build_size = 0, bits = 0, count = 0;
  if (!r.bytes(sizeof kMagic, magic) || magic != std::string_view(kMagic, sizeof kMagic) ||
      !r.u32(format) || format != kFormat || !r.u32(build_size) ||
      !r.bytes(build_size, entry_build) || entry_build != build || !r.u32(bits) ||
      bits != feature_bits(features) || !r.bytes(sha256.size(), entry_sha) || entry_sha != sha256 ||
      !r.u32(count) || count > (body.size() - r.at) / kFunctionBytes)
    return std::nullopt;
  std::vector<ValidationFacts> facts(count);
  for (ValidationFacts& f : facts) {
    uint32_t blocks = 0;
    if (!r.u32(f.max_stack_height) || !r.u32(f.max_control_depth) || !r.u32(blocks) ||
        blocks > (body.size() - r.at) / kBlockBytes)
      return std::nullopt;
    f.blocks.resize(blocks);
    for (BlockInfo& b : f.blocks) {
      if (!r.u32(b.offset) || !r.u32(b.else_offset) || !r.u32(b.end_offset) ||
          !r.u32(b.param_count) || !r.u32(b.result_count))
        return std::nullopt;
    }
  }
  if (r.at != body.size()) return std::nullopt;
  return facts;
}

// Reads at most `limit` bytes of `path`; nullopt when it is missing, unreadable or longer.
std::optional<std::string> read_bounded(const std::filesystem::path& path, size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> out;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) <= limit) {
    std::string data(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < data.size()) {
      const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got == data.size()) out = std::move(data);
  }
  ::close(fd);
  return out;
}

// The directory's key: read, or made once (O_EXCL, so concurrent openers agree on one).
Result<std::string, ModuleCacheError> load_key(const std::filesystem::path& path) {
  const std::string where = "module cache key " + escape_untrusted(path.string());
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      struct stat st {};
      std::string key(kKeyBytes, '\0');
      const bool sized = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                         static_cast<size_t>(st.st_size) == kKeyBytes &&
                         ::read(fd, key.data(), kKeyBytes) == static_cast<ssize_t>(kKeyBytes);
      ::close(fd);
      if (!sized) return Failure{ModuleCacheError{where + ": not a regular file of 32 bytes"}};
      if (st.st_mode & 077)
        return Failure{ModuleCacheError{where + ": readable or writable by others (chmod 600)"}};
      return key;
    }
    if (errno != ENOENT)
      return Failure{ModuleCacheError{where + ": cannot read: " + std::strerror(errno)}};
    unsigned char fresh[kKeyBytes];
    if (RAND_bytes(fresh, kKeyBytes) != 1)
      return Failure{ModuleCacheError{where + ": no random bytes for a new key"}};
    const int out =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
      if (errno == EEXIST) continue;  // another process made it first: read theirs
      return Failure{ModuleCacheError{where + ": cannot create: " + std::strerror(errno)}};
    }
    const bool written = ::write(out, fresh, kKeyBytes) == static_cast<ssize_t>(kKeyBytes);
    ::close(out);
    if (!written) {
      ::unlink(path.c_str());
      return Failure{ModuleCacheError{where + ": cannot write: " + std::strerror(errno)}};
    }
  }
  return Failure{ModuleCacheError{where + ": appeared and vanished while being read"}};
}

}  // namespace

Result<std::shared_ptr<ModuleCache>, ModuleCacheError> ModuleCache::open(
    const std::filesystem::path& dir, Options options) {
  const std::string where = "module cache " + escape_untrusted(dir.string());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Failure{ModuleCacheError{where + ": cannot create: " + std::strerror(errno)}};
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Failure{ModuleCacheError{where + ": not a directory"}};
  auto key = load_key(dir / "key");
  if (!key) return Failure{std::move(key.error())};
  std::shared_ptr<ModuleCache> cache(new ModuleCache());
  cache->dir_ = dir;
  cache->key_ = std::move(*key);
  cache->build_ = options.build.empty() ? default_build() : std::move(options.build);
  return cache;
}

std::filesystem::path ModuleCache::entry_path(const std::string& sha256) const {
  return dir_ / (sha256 + ".validated");
}

Result<Module, LoadError> ModuleCache::load(std::span<const uint8_t> bytes,
                                            const std::string& sha256, const Features& features) {
  const bool hex =
      sha256.size() == 64 && sha256.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!hex) return load_module(bytes, features);  // never a path made of anything else
  const std::filesystem::path path = entry_path(sha256);
  // An entry is at most a few words per function and block: bounded by the module's size.
  const size_t limit = 4096 + build_.size() + 32 * bytes.size();
  if (auto file = read_bounded(path, limit)) {
    if (auto facts = parse_entry(*file, key_, build_, features, sha256)) {
      auto module = load_prevalidated_module(bytes, std::move(*facts), features);
      if (module) {
        hits_.fetch_add(1, std::memory_order_relaxed);
        return module;
      }
    }
    ignored_.fetch_add(1, std::memory_order_relaxed);
  } else {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ec)))
      ignored_.fetch_add(1, std::memory_order_relaxed);  // oversized, unreadable, not a file
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  auto module = load_module(bytes, features);
  if (!module) return module;  // an invalid module is never cached
  std::string entry = entry_body(build_, features, sha256, validation_facts(*module));
  entry += mac(key_, entry);
  // Written aside and renamed over: a reader sees a whole entry or none.
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path temporary = dir_ / (sha256 + ".tmp." + std::to_string(::getpid()) +
                                                  "." + std::to_string(counter.fetch_add(1)));
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  bool stored =
      fd >= 0 && ::write(fd, entry.data(), entry.size()) == static_cast<ssize_t>(entry.size());
  if (fd >= 0) stored = ::close(fd) == 0 && stored;
  if (stored) stored = ::rename(temporary.c_str(), path.c_str()) == 0;
  if (!stored) {
    ::unlink(temporary.c_str());
    write_failures_.fetch_add(1, std::memory_order_relaxed);
  }
  return module;
}

ModuleCache::Stats ModuleCache::stats() const {
  return {hits_.load(), misses_.load(), ignored_.load(), write_failures_.load()};
}

}  // namespace warden::extism
