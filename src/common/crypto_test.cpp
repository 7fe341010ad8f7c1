#include "common/crypto.h"

#include <gtest/gtest.h>

#include <set>

namespace wanserve {

TEST(Crypto, Sha256MatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, Sha256InPiecesMatchesTheOneShotAndStartsOverAfterEachDigest) {
  Sha256 hash;
  hash.Update("a");
  hash.Update("");
  hash.Update("bc");
  EXPECT_EQ(hash.FinalHex(), Sha256Hex("abc"));
  // FIPS 180-2's two-block vector, fed one byte at a time after a digest.
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (char c : two_blocks) hash.Update(std::string_view(&c, 1));
  EXPECT_EQ(hash.FinalHex(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256FileHex("/nonexistent/file"), std::nullopt);
}

TEST(Crypto, HmacSha256MatchesRfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Base64Variants) {
  EXPECT_EQ(Base64Encode({'f', 'o', 'o', 'b'}), "Zm9vYg==");
  EXPECT_EQ(Base64UrlEncode({0xfb, 0xff}), "-_8");
}

TEST(Crypto, RandomStringUsesOnlyAlphabetAndVaries) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto s = RandomString(8, "ab");
    ASSERT_EQ(s.size(), 8u);
    EXPECT_EQ(s.find_first_not_of("ab"), std::string::npos);
    seen.insert(s);
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(Crypto, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secrets"));
}

}  // namespace wanserve

namespace wanserve {
namespace {

TEST(Crypto, DecodesWhatItEncodes) {
  for (size_t n : {0u, 1u, 2u, 3u, 24u, 31u}) {
    std::vector<uint8_t> bytes = RandomBytes(n);
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes) << n;
    EXPECT_EQ(HexDecode(HexEncode(bytes)), bytes) << n;
  }
  EXPECT_EQ(Base64Decode("aGk="), (std::vector<uint8_t>{'h', 'i'}));
  EXPECT_FALSE(Base64Decode("aGk").has_value());
  EXPECT_FALSE(Base64Decode("a-k=").has_value());
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
}

}  // namespace
}  // namespace wanserve
