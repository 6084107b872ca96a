// LEB128 and name reading through ByteReader, at the edges the spec defines.
#include <gtest/gtest.h>

#include "decoder/byte_reader.h"
#include "test_binary.h"

namespace warden {
namespace {

using test::B;
using test::Bytes;
using Code = DecodeErrorCode;

template <class T>
struct Read {
  bool ok;
  T value;
  ByteReader reader;
};

// Reads one value with `read` (a ByteReader member) from `bytes` placed at offset `base`.
template <class T>
Read<T> read_with(bool (ByteReader::*read)(T&), const Bytes& bytes, uint64_t base = 0) {
  ByteReader r(bytes, base);
  T v{};
  const bool ok = (r.*read)(v);
  return {ok, v, r};
}

Read<uint32_t> u32(const Bytes& b, uint64_t base = 0) {
  return read_with(&ByteReader::read_u32, b, base);
}
Read<uint64_t> u64(const Bytes& b) { return read_with(&ByteReader::read_u64, b); }
Read<int32_t> s32(const Bytes& b) { return read_with(&ByteReader::read_s32, b); }
Read<int64_t> s33(const Bytes& b) { return read_with(&ByteReader::read_s33, b); }
Read<int64_t> s64(const Bytes& b) { return read_with(&ByteReader::read_s64, b); }

TEST(Leb128, U32Values) {
  EXPECT_EQ(u32(B("\x00")).value, 0u);
  EXPECT_EQ(u32(B("\x7f")).value, 127u);
  EXPECT_EQ(u32(B("\x80\x01")).value, 128u);
  EXPECT_EQ(u32(B("\xe5\x8e\x26")).value, 624485u);
  auto max = u32(B("\xff\xff\xff\xff\x0f"));
  ASSERT_TRUE(max.ok);
  EXPECT_EQ(max.value, UINT32_MAX);
  EXPECT_TRUE(max.reader.at_end());
}

TEST(Leb128, U32OverlongButWithinFiveBytesIsAllowed) {
  auto zero = u32(B("\x80\x80\x80\x80\x00"));
  ASSERT_TRUE(zero.ok);
  EXPECT_EQ(zero.value, 0u);
}

TEST(Leb128, U32SixBytesIsTooLong) {
  auto r = u32(B("\x80\x80\x80\x80\x80\x00"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reader.error().code, Code::IntegerTooLong);
  EXPECT_EQ(r.reader.error().offset, 4u);  // the fifth byte still says "more"
}

TEST(Leb128, U32UnusedBitsMustBeZero) {
  for (const Bytes& bad :
       {B("\xff\xff\xff\xff\x1f"), B("\x80\x80\x80\x80\x10"), B("\x80\x80\x80\x80\x70")}) {
    auto r = u32(bad);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.reader.error().code, Code::IntegerTooLarge);
    EXPECT_EQ(r.reader.error().offset, 4u);
  }
}

TEST(Leb128, TruncatedReportsTheEndWithTheBase) {
  auto r = u32(B("\x80\x80"), 0x100);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reader.error().code, Code::UnexpectedEnd);
  EXPECT_EQ(r.reader.error().offset, 0x102u);
}

TEST(Leb128, S32Values) {
  EXPECT_EQ(s32(B("\x7f")).value, -1);
  EXPECT_EQ(s32(B("\x40")).value, -64);
  EXPECT_EQ(s32(B("\x3f")).value, 63);
  EXPECT_EQ(s32(B("\xc0\x00")).value, 64);
  EXPECT_EQ(s32(B("\xff\xff\xff\xff\x07")).value, INT32_MAX);
  EXPECT_EQ(s32(B("\x80\x80\x80\x80\x78")).value, INT32_MIN);
  EXPECT_EQ(s32(B("\xff\xff\xff\xff\x7f")).value, -1);  // overlong -1, sign-extended: fine
}

TEST(Leb128, S32LastByteMustSignExtend) {
  for (const Bytes& bad :
       {B("\xff\xff\xff\xff\x4f"), B("\x80\x80\x80\x80\x08"), B("\x80\x80\x80\x80\x70")}) {
    auto r = s32(bad);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.reader.error().code, Code::IntegerTooLarge);
  }
  EXPECT_EQ(s32(B("\x80\x80\x80\x80\x80\x00")).reader.error().code, Code::IntegerTooLong);
}

TEST(Leb128, S33ForBlockTypes) {
  EXPECT_EQ(s33(B("\x40")).value, -64);
  EXPECT_EQ(s33(B("\xff\xff\xff\xff\x0f")).value, 0xFFFFFFFFll);  // largest type index
  EXPECT_EQ(s33(B("\x80\x80\x80\x80\x70")).value, -(1ll << 32));
  EXPECT_EQ(s33(B("\xff\xff\xff\xff\x2f")).reader.error().code, Code::IntegerTooLarge);
}

TEST(Leb128, S64AndU64TenBytes) {
  EXPECT_EQ(s64(B("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00")).value, INT64_MAX);
  EXPECT_EQ(s64(B("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f")).value, INT64_MIN);
  EXPECT_EQ(s64(B("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f")).value, -1);
  EXPECT_EQ(s64(B("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")).reader.error().code,
            Code::IntegerTooLarge);
  EXPECT_EQ(s64(B("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00")).reader.error().code,
            Code::IntegerTooLong);
  EXPECT_EQ(u64(B("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")).value, UINT64_MAX);
  EXPECT_EQ(u64(B("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02")).reader.error().code,
            Code::IntegerTooLarge);
}

TEST(ByteReader, FirstErrorIsKept) {
  const Bytes bytes = B("\x80\x80\x80\x80\x80\x00\x01");
  ByteReader r(bytes);
  uint32_t v = 0;
  EXPECT_FALSE(r.read_u32(v));
  uint8_t b = 0;
  EXPECT_FALSE(r.read_u8(b));  // nothing reads after a failure
  EXPECT_FALSE(r.fail(Code::IllegalOpcode));
  EXPECT_EQ(r.error().code, Code::IntegerTooLong);
}

TEST(ByteReader, CountAboveLimitIsRefusedBeforeAnyEntryIsRead) {
  const Bytes bytes = B("\xc1\x84\x3d");  // 1,000,001
  ByteReader r(bytes, 10);
  uint32_t count = 0;
  EXPECT_FALSE(r.read_count(count, 1'000'000, "types"));
  EXPECT_EQ(r.error().code, Code::ImplementationLimit);
  EXPECT_EQ(r.error().offset, 10u);
  EXPECT_NE(r.error().message.find("1000001 types"), std::string::npos) << r.error().message;
}

TEST(ByteReader, ReserveNeverTrustsTheCount) {
  const Bytes bytes = B("\x01\x02\x03");
  ByteReader r(bytes);
  EXPECT_EQ(r.reserve_for(1'000'000), 3u);
  EXPECT_EQ(r.reserve_for(2), 2u);
}

bool name_ok(const Bytes& bytes, std::string* out = nullptr) {
  ByteReader r(bytes);
  std::string name;
  const bool ok = r.read_name(name);
  if (out) *out = name;
  if (!ok) {
    EXPECT_EQ(r.error().code, Code::MalformedUtf8) << r.error().message;
  }
  return ok;
}

TEST(Names, Utf8) {
  std::string name;
  EXPECT_TRUE(name_ok(B("\x05hello"), &name));
  EXPECT_EQ(name, "hello");
  EXPECT_TRUE(name_ok(B("\x02\xc3\xa9")));           // é
  EXPECT_TRUE(name_ok(B("\x03\xe2\x82\xac")));       // €
  EXPECT_TRUE(name_ok(B("\x04\xf0\x9f\x98\x80")));   // U+1F600
  EXPECT_TRUE(name_ok(B("\x04\xf4\x8f\xbf\xbf")));   // U+10FFFF
  EXPECT_FALSE(name_ok(B("\x02\xc0\x80")));          // overlong NUL
  EXPECT_FALSE(name_ok(B("\x03\xe0\x80\xaf")));      // overlong '/'
  EXPECT_FALSE(name_ok(B("\x03\xed\xa0\x80")));      // surrogate U+D800
  EXPECT_FALSE(name_ok(B("\x04\xf4\x90\x80\x80")));  // U+110000
  EXPECT_FALSE(name_ok(B("\x01\x80")));              // lone continuation
  EXPECT_FALSE(name_ok(B("\x02\xe2\x82")));          // truncated sequence
  EXPECT_FALSE(name_ok(B("\x01\xff")));
}

TEST(Names, LengthPastTheEnd) {
  const Bytes bytes =
      B("\x05"
        "ab");
  ByteReader r(bytes, 7);
  std::string name;
  EXPECT_FALSE(r.read_name(name));
  EXPECT_EQ(r.error().code, Code::LengthOutOfBounds);
  EXPECT_EQ(r.error().offset, 7u);
}

}  // namespace
}  // namespace warden
