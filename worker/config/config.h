#pragma once
// Environment variables → one validated Config. The names keep those of the
// Python service this replaces (MYSQL_*, LOGLEVEL, API_WORKERS,
// DEFAULT_TOKEN_EXPIRY, SECRET_KEY) and add the ones API.md lists.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace authd {

enum class LogLevel { debug, info, warning, error };

struct DbSettings {
  std::string host = "127.0.0.1";
  unsigned port = 3306;
  std::string user;
  std::string password;
  std::string database;
  std::string migrate_user;      // MYSQL_MIGRATE_USER, defaults to user
  std::string migrate_password;  // MYSQL_MIGRATE_PASSWORD, defaults to password
  unsigned connect_timeout_s = 2;
  unsigned read_timeout_s = 5;
  unsigned write_timeout_s = 5;
  std::string ssl_ca;         // MYSQL_SSL_CA: verify the server against this CA
  bool ssl_required = false;  // MYSQL_SSL: require TLS (without a CA: encrypted, unverified)
};

struct Config {
  DbSettings db;

  // Pool and process.
  unsigned workers = 1;                   // API_WORKERS, default: number of CPUs
  std::string listen = "127.0.0.1:9000";  // FCGI_LISTEN: unix path or [host]:port
  int listen_backlog = 0;                 // FCGI_BACKLOG, 0 = derived from workers
  LogLevel log_level = LogLevel::info;
  unsigned http_port = 8080;  // HTTP_PORT (read by nginx templates; kept here for validation)
  std::uint64_t memory_budget_mib = 0;  // MEMORY_BUDGET_MIB, 0 = derived at startup

  // Tokens.
  std::string secret_key;  // SECRET_KEY, >= 32 bytes
  std::string jwt_alg = "HS256";
  std::string jwt_private_key_file;
  std::string jwt_previous_public_key_file;
  std::string jwt_issuer = "auth";
  std::string jwt_audience = "auth";
  std::int64_t token_ttl_s = 900;           // DEFAULT_TOKEN_EXPIRY
  std::int64_t refresh_reuse_grace_s = 10;  // REFRESH_REUSE_GRACE
  std::int64_t refresh_idle_ttl_s = 14 * 86400;
  std::int64_t refresh_absolute_ttl_s = 30 * 86400;
  unsigned max_sessions_per_user = 50;
  std::int64_t reauth_max_age_s = 300;

  // Passwords.
  unsigned password_min_length = 8;
  unsigned password_min_strength = 3;
  std::string password_pepper;
  std::uint64_t argon2_memory_kib = 19456;
  std::uint64_t argon2_iterations = 2;

  // Throttling.
  std::vector<std::string> trusted_proxies;
  unsigned login_free_failures = 5;
  std::int64_t login_delay_base_s = 30;
  std::int64_t login_delay_max_s = 900;
  unsigned login_email_failures = 20;
  bool login_reveal_unknown_email = false;

  // Metrics.
  std::vector<std::string> metrics_allow = {"127.0.0.1/32", "::1/128"};
};

// What a failed parse says: one line naming the variable and what is wrong.
struct ConfigError {
  std::string message;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Which settings a command needs: `migrate` needs no SECRET_KEY, `serve` does.
enum class ConfigPurpose { serve, migrate, operator_command };

std::variant<Config, ConfigError> parse_config(const EnvLookup& env, ConfigPurpose purpose,
                                               unsigned detected_cpus);

// Reads the process environment.
EnvLookup process_env();

}  // namespace authd
