#include "adapters/crypto/hmac_sha256.h"

#include <gtest/gtest.h>

#include <string>

#include "util/base64url.h"

namespace authd {
namespace {

std::string hex(const HmacSha256::Mac& mac) {
  return hex_encode({reinterpret_cast<const char*>(mac.data()), mac.size()});
}

// RFC 4231 test cases 2 (short key), 4 (binary key and data) and 6 (a key
// longer than a block, hashed first).
TEST(HmacSha256Test, Rfc4231Vectors) {
  EXPECT_EQ(hex(HmacSha256("Jefe").mac("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  std::string key4;
  for (int i = 1; i <= 25; ++i)
    key4 += static_cast<char>(i);
  EXPECT_EQ(hex(HmacSha256(key4).mac(std::string(50, '\xcd'))),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  EXPECT_EQ(hex(HmacSha256(std::string(131, '\xaa'))
                    .mac("Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// The context is reset per call: the key stays, nothing of the previous
// input carries over, in either order.
TEST(HmacSha256Test, EachCallIsIndependent) {
  HmacSha256 h("Jefe");
  const auto first = h.mac("what do ya want for nothing?");
  const auto other = h.mac("something else");
  EXPECT_NE(first, other);
  EXPECT_EQ(h.mac("what do ya want for nothing?"), first);
  EXPECT_EQ(h.mac(""), HmacSha256("Jefe").mac(""));
}

}  // namespace
}  // namespace authd
