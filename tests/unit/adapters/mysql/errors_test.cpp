#include "adapters/mysql/errors.h"

#include <gtest/gtest.h>

namespace authd::mysql {
namespace {

TEST(DuplicateKeyName, ReadsMariadbMessages) {
  EXPECT_EQ(duplicate_key_name("Duplicate entry 'a@example.com' for key 'users_email'"),
            "users_email");
}

TEST(DuplicateKeyName, DropsTheTablePrefixOfMysql8Messages) {
  EXPECT_EQ(duplicate_key_name("Duplicate entry 'a@example.com' for key 'users.users_email'"),
            "users_email");
  EXPECT_EQ(duplicate_key_name("Duplicate entry 'x' for key 'users.PRIMARY'"), "PRIMARY");
}

TEST(DuplicateKeyName, IsNotFooledByTheValue) {
  EXPECT_EQ(duplicate_key_name("Duplicate entry 'x' for key 'PRIMARY'' for key 'users_email'"),
            "users_email");
}

TEST(DuplicateKeyName, EmptyWithoutAKey) {
  EXPECT_EQ(duplicate_key_name("something else"), "");
}

TEST(RedactedServerMessage, WithholdsMessagesThatQuoteValues) {
  const std::string secret = "Duplicate entry '$argon2id$v=19$...' for key 'x'";
  EXPECT_EQ(redacted_server_message(1062, secret).find("argon2"), std::string::npos);
  EXPECT_EQ(redacted_server_message(1366, "Incorrect string value: '\\xF0' for column").find("xF0"),
            std::string::npos);
}

TEST(RedactedServerMessage, KeepsOtherMessages) {
  EXPECT_EQ(redacted_server_message(1146, "Table 'authd.users' doesn't exist"),
            "Table 'authd.users' doesn't exist");
}

TEST(ErrorClasses, ConnectionFailuresAndRetries) {
  for (int code : {2002, 2003, 2006, 2013, 2026, 2055, 1927, 4031}) {
    EXPECT_TRUE(is_connection_failure(code)) << code;
  }
  EXPECT_FALSE(is_connection_failure(1062));
  EXPECT_FALSE(is_connection_failure(1146));

  EXPECT_TRUE(read_may_be_retried(2006));
  EXPECT_TRUE(read_may_be_retried(2013));
  EXPECT_TRUE(read_may_be_retried(2026));   // a TLS connection whose server restarted
  EXPECT_FALSE(read_may_be_retried(2003));  // a refused connect is not retried
  EXPECT_FALSE(read_may_be_retried(1045));

  EXPECT_TRUE(outcome_unknown(2013));
  EXPECT_TRUE(outcome_unknown(2026));
  EXPECT_FALSE(outcome_unknown(2006));  // never sent
}

}  // namespace
}  // namespace authd::mysql
