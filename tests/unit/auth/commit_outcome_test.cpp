// A commit whose answer was lost (StoreCommitUnknown): the use cases re-read
// and answer the truth (success when their write is there, a plain 503 when
// it is not), and report the outcome as unknown only when the re-read fails
// too.
#include "auth/commit_outcome.h"

#include <gtest/gtest.h>

#include "fakes/lost_commit.h"
#include "fakes/service_fixture.h"
#include "ports/store_errors.h"

namespace authd {
namespace {

using testing::expect_plain_unavailable;
using testing::FakeTransactions;
using testing::kOtherStrongPassword;
using testing::kStrongPassword;
using testing::ServiceWorld;
using LostCommit = FakeTransactions::LostCommit;

const ClientInfo kClient{"203.0.113.7", "test-agent"};

TEST(WriteThenSettle, AppliedIsSuccess) {
  bool asked = false;
  write_then_settle(
      "t", [] { throw StoreCommitUnknown("lost"); },
      [&] {
        asked = true;
        return true;
      });
  EXPECT_TRUE(asked);
}

TEST(WriteThenSettle, NotAppliedIsAPlainUnavailable) {
  expect_plain_unavailable([] {
    write_then_settle(
        "t", [] { throw StoreCommitUnknown("lost"); }, [] { return false; });
  });
}

TEST(WriteThenSettle, ReReadFailingKeepsTheOutcomeUnknown) {
  EXPECT_THROW(write_then_settle(
                   "t", [] { throw StoreCommitUnknown("lost"); },
                   []() -> bool { throw StoreUnavailable("still down"); }),
               StoreCommitUnknown);
}

TEST(WriteThenSettle, OtherFailuresPassUntouchedAndSuccessAsksNothing) {
  bool asked = false;
  auto applied = [&] { return asked = true; };
  EXPECT_THROW(write_then_settle(
                   "t", [] { throw StoreUnavailable("down"); }, applied),
               StoreUnavailable);
  EXPECT_THROW(write_then_settle(
                   "t", [] { throw StoreError("bug"); }, applied),
               StoreError);
  write_then_settle(
      "t", [] {}, applied);
  EXPECT_FALSE(asked);
}

class LostCommitTest : public ::testing::Test {
 protected:
  ServiceWorld w;
  void register_ann() {
    ASSERT_TRUE(w.auth().register_user("ann@example.com", kStrongPassword, kClient).ok());
  }
};

TEST_F(LostCommitTest, ATakenEmailStaysTakenWhateverTheCommitDid) {
  register_ann();
  w.transactions.lose_next_commit = LostCommit::rolled_back;
  auto r = w.auth().register_user("ann@example.com", kOtherStrongPassword, kClient);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, AuthErrc::email_taken);
}

TEST_F(LostCommitTest, RegistrationThatLandedIsCreated) {
  w.transactions.lose_next_commit = LostCommit::applied;
  auto r = w.auth().register_user("ann@example.com", kStrongPassword, kClient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(w.users.users.size(), 1u);
  EXPECT_EQ(w.users.users.begin()->first, r.value().id);
}

TEST_F(LostCommitTest, RegistrationThatDidNotLandIsAPlain503) {
  w.transactions.lose_next_commit = LostCommit::rolled_back;
  expect_plain_unavailable(
      [&] { w.auth().register_user("ann@example.com", kStrongPassword, kClient); });
  EXPECT_TRUE(w.users.users.empty());
}

TEST_F(LostCommitTest, RegistrationWithTheDatabaseStillAwayIsUnknown) {
  w.transactions.lose_next_commit = LostCommit::applied;
  w.transactions.down_after_lost_commit = true;
  EXPECT_THROW(w.auth().register_user("ann@example.com", kStrongPassword, kClient),
               StoreCommitUnknown);
}

TEST_F(LostCommitTest, LoginWhoseSessionLandedIsGranted) {
  register_ann();
  w.transactions.lose_next_commit = LostCommit::applied;
  auto r = w.auth().login("ann@example.com", kStrongPassword, kClient);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(w.auth().authenticate(r.value().access_token).ok());
}

TEST_F(LostCommitTest, LoginWhoseSessionDidNotLandIsAPlain503) {
  register_ann();
  w.transactions.lose_next_commit = LostCommit::rolled_back;
  expect_plain_unavailable([&] { w.auth().login("ann@example.com", kStrongPassword, kClient); });
  EXPECT_TRUE(w.sessions.sessions.empty());
}

TEST_F(LostCommitTest, PasswordChangeThatLandedIsGrantedAndTheOldPasswordIsGone) {
  register_ann();
  w.transactions.lose_next_commit = LostCommit::applied;
  auto r = w.auth().change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                    std::nullopt, kClient);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(w.auth().login("ann@example.com", kStrongPassword, kClient).ok());
  EXPECT_TRUE(w.auth().login("ann@example.com", kOtherStrongPassword, kClient).ok());
}

TEST_F(LostCommitTest, PasswordChangeThatDidNotLandLeavesTheOldPassword) {
  register_ann();
  w.transactions.lose_next_commit = LostCommit::rolled_back;
  expect_plain_unavailable([&] {
    w.auth().change_password("ann@example.com", kStrongPassword, kOtherStrongPassword, std::nullopt,
                             kClient);
  });
  EXPECT_TRUE(w.auth().login("ann@example.com", kStrongPassword, kClient).ok());
}

TEST_F(LostCommitTest, PasswordChangeWithTheDatabaseStillAwayIsUnknown) {
  register_ann();
  w.transactions.lose_next_commit = LostCommit::applied;
  w.transactions.down_after_lost_commit = true;
  EXPECT_THROW(w.auth().change_password("ann@example.com", kStrongPassword, kOtherStrongPassword,
                                        std::nullopt, kClient),
               StoreCommitUnknown);
}

TEST_F(LostCommitTest, RefreshThatLandedHandsOutTheNewToken) {
  register_ann();
  auto grant = w.auth().login("ann@example.com", kStrongPassword, kClient).value();
  w.transactions.lose_next_commit = LostCommit::applied;
  auto r = w.auth().refresh(grant.refresh_token, kClient);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(w.auth().refresh(r.value().refresh_token, kClient).ok());
}

TEST_F(LostCommitTest, RefreshThatDidNotLandLeavesTheOldTokenUsable) {
  register_ann();
  auto grant = w.auth().login("ann@example.com", kStrongPassword, kClient).value();
  w.transactions.lose_next_commit = LostCommit::rolled_back;
  expect_plain_unavailable([&] { w.auth().refresh(grant.refresh_token, kClient); });
  EXPECT_TRUE(w.auth().refresh(grant.refresh_token, kClient).ok());
}

}  // namespace
}  // namespace authd
