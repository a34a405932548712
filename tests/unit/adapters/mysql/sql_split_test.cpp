#include <gtest/gtest.h>

#include "adapters/mysql/migrations.h"

namespace authd::mysql {
namespace {

using Statements = std::vector<std::string>;

TEST(SplitSqlStatements, SplitsAtSemicolonEndingALine) {
  EXPECT_EQ(split_sql_statements("CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n"),
            (Statements{"CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)"}));
}

TEST(SplitSqlStatements, KeepsMultiLineStatementsTogether) {
  EXPECT_EQ(split_sql_statements("CREATE TABLE a (\n  x INT,\n  y INT\n) ENGINE=InnoDB;\n"),
            (Statements{"CREATE TABLE a (\nx INT,\ny INT\n) ENGINE=InnoDB"}));
}

TEST(SplitSqlStatements, DropsCommentLinesAndBlankLines) {
  EXPECT_EQ(split_sql_statements("-- header\n\n  -- indented comment\nSELECT 1;\n\n-- tail\n"),
            (Statements{"SELECT 1"}));
}

TEST(SplitSqlStatements, SemicolonInsideALineDoesNotSplit) {
  EXPECT_EQ(split_sql_statements("INSERT INTO t VALUES ('a;b');\n"),
            (Statements{"INSERT INTO t VALUES ('a;b')"}));
}

TEST(SplitSqlStatements, KeepsALastStatementWithoutSemicolon) {
  EXPECT_EQ(split_sql_statements("SELECT 1;\nSELECT 2"), (Statements{"SELECT 1", "SELECT 2"}));
}

TEST(SplitSqlStatements, HandlesCrlfAndTrailingBlanks) {
  EXPECT_EQ(split_sql_statements("SELECT 1;  \r\nSELECT 2 ;\r\n"),
            (Statements{"SELECT 1", "SELECT 2"}));
}

TEST(SplitSqlStatements, EmptyOrCommentOnlyScriptHasNoStatements) {
  EXPECT_TRUE(split_sql_statements("").empty());
  EXPECT_TRUE(split_sql_statements("-- nothing here\n\n").empty());
  EXPECT_TRUE(split_sql_statements(";\n").empty());
}

TEST(SplitSqlStatements, FirstMigrationHasItsTwoTables) {
  const auto& all = embedded_migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().version, 1);
  EXPECT_STREQ(all.front().name, "001_users_sessions");
  const Statements statements = split_sql_statements(all.front().sql);
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_TRUE(statements[0].starts_with("CREATE TABLE IF NOT EXISTS users"));
  EXPECT_TRUE(statements[1].starts_with("CREATE TABLE IF NOT EXISTS sessions"));
}

TEST(EmbeddedMigrations, AreInStrictlyIncreasingVersionOrder) {
  int previous = 0;
  for (const Migration& migration : embedded_migrations()) {
    EXPECT_GT(migration.version, previous) << migration.name;
    previous = migration.version;
  }
  EXPECT_EQ(latest_schema_version(), previous);
}

}  // namespace
}  // namespace authd::mysql
