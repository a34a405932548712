#include "ports/uuid.h"

#include <gtest/gtest.h>

#include "auth/ids.h"
#include "fakes/fakes.h"

namespace authd {
namespace {

TEST(Uuid, ParsesAndPrintsCanonicalForm) {
  auto id = Uuid::parse("0190B3C4-1a2b-7c3d-8e4f-5a6b7c8d9e0f");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->to_string(), "0190b3c4-1a2b-7c3d-8e4f-5a6b7c8d9e0f");
  EXPECT_EQ(Uuid::from_bytes(id->as_bytes()), id);
}

TEST(Uuid, RefusesMalformed) {
  for (const char* bad :
       {"", "0190b3c4", "0190b3c4-1a2b-7c3d-8e4f-5a6b7c8d9e0",
        "0190b3c4x1a2b-7c3d-8e4f-5a6b7c8d9e0f", "0190b3c4-1a2b-7c3d-8e4f-5a6b7c8d9e0g",
        "0190b3c4-1a2b-7c3d-8e4f-5a6b7c8d9e0f0"}) {
    EXPECT_FALSE(Uuid::parse(bad)) << bad;
  }
  EXPECT_FALSE(Uuid::from_bytes("short"));
}

TEST(UuidV7, CarriesTimeVersionAndVariantAndSortsByTime) {
  testing::ManualClock clock;
  testing::SeededRandom random;
  auto a = new_uuid_v7(clock, random);
  clock.advance(1);
  auto b = new_uuid_v7(clock, random);
  EXPECT_EQ(a.bytes[6] >> 4, 7);
  EXPECT_EQ(a.bytes[8] >> 6, 2);
  EXPECT_LT(a, b);
  std::uint64_t ms = 0;
  for (int i = 0; i < 6; ++i)
    ms = ms << 8 | a.bytes[i];
  EXPECT_EQ(static_cast<std::int64_t>(ms), clock.now_ms() - 1000);
}

}  // namespace
}  // namespace authd
