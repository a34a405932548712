#include "cli/startup.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <variant>

#include "adapters/crypto/sodium_random.h"
#include "adapters/mysql/connection.h"
#include "adapters/mysql/mfa_store.h"
#include "adapters/mysql/migrations.h"
#include "auth/reseal.h"
#include "log/log.h"
#include "ports/store_errors.h"

namespace authd::cli {

std::optional<Config> load_config(ConfigPurpose purpose) {
  auto parsed =
      parse_config(process_env(), purpose, std::max(1u, std::thread::hardware_concurrency()));
  if (auto* err = std::get_if<ConfigError>(&parsed)) {
    std::fprintf(stderr, "authd: configuration error: %s\n", err->message.c_str());
    return std::nullopt;
  }
  Config config = std::get<Config>(std::move(parsed));
  log::set_level(config.log_level);
  if (config.test_weak_argon2 &&
      !argon2_meets_floor(config.argon2_memory_kib, config.argon2_iterations)) {
    // Loud on purpose: a production run with this setting stores weak hashes.
    std::fprintf(stderr,
                 "authd: WARNING: AUTHD_TEST_WEAK_ARGON2 is set: Argon2id at %llu KiB, t=%llu is "
                 "below OWASP's floor. For test runs only, never in production.\n",
                 static_cast<unsigned long long>(config.argon2_memory_kib),
                 static_cast<unsigned long long>(config.argon2_iterations));
    log::warn("argon2_below_floor_for_tests",
              {{"argon2_memory_kib", static_cast<std::int64_t>(config.argon2_memory_kib)},
               {"argon2_iterations", static_cast<std::int64_t>(config.argon2_iterations)}});
  }
  return config;
}

int check_schema(const Config& config) {
  using Clock = std::chrono::steady_clock;
  // Long enough for a database container that starts beside us.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  int attempt = 0;
  while (true) {
    try {
      mysql::Connection connection(config.db, mysql::Account::app);
      const int have = mysql::read_schema_version(connection);
      const int need = mysql::latest_schema_version();
      if (have < need) {
        std::fprintf(stderr,
                     "authd: the database schema is at version %d, this server needs %d: run "
                     "`authd migrate` (or `make migrate`) first\n",
                     have, need);
        log::error("schema_too_old", {{"have", have}, {"need", need}});
        return 1;
      }
      if (have > need) {
        log::warn("schema_newer_than_binary", {{"have", have}, {"need", need}});
      }
      // TOTP secrets are sealed under MFA_ENCRYPTION_KEY: once an account
      // has a factor, a server without the key could not check its codes.
      if (!config.mfa_encryption_key) {
        mysql::MysqlMfaStore mfa(connection);
        if (mfa.any_enabled()) {
          std::fprintf(stderr,
                       "authd: configuration error: MFA_ENCRYPTION_KEY: required, since accounts "
                       "have a second factor (32 bytes as 64 hex digits or base64)\n");
          return 2;
        }
      } else {
        // Secrets sealed before they were bound to their account are sealed
        // again, before any child serves (auth/reseal.h says why here).
        mysql::MysqlMfaStore mfa(connection);
        SodiumRandom random;
        const ResealReport report = reseal_totp_secrets(mfa, *config.mfa_encryption_key, random);
        if (report.resealed > 0 || report.unreadable > 0) {
          log::info("mfa_secrets_resealed",
                    {{"resealed", static_cast<std::int64_t>(report.resealed)},
                     {"unreadable", static_cast<std::int64_t>(report.unreadable)}});
        }
      }
      return 0;
    } catch (const StoreUnavailable& e) {
      if (Clock::now() >= deadline) {
        log::error("startup_failed", {{"error", "database unreachable"}, {"detail", e.what()}});
        std::fprintf(stderr, "authd: cannot reach the database at %s:%u: %s\n",
                     config.db.host.c_str(), config.db.port, e.what());
        return 1;
      }
      if (attempt++ % 5 == 0) {
        log::warn("waiting_for_database", {{"host", config.db.host}, {"detail", e.what()}});
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    } catch (const std::exception& e) {
      log::error("startup_failed", {{"error", e.what()}});
      std::fprintf(stderr, "authd: %s\n", e.what());
      return 1;
    }
  }
}

ServicePolicy service_policy(const Config& config) {
  ServicePolicy p;
  p.token_ttl_s = config.token_ttl_s;
  p.refresh_idle_ttl_s = config.refresh_idle_ttl_s;
  p.refresh_absolute_ttl_s = config.refresh_absolute_ttl_s;
  p.refresh_reuse_grace_s = config.refresh_reuse_grace_s;
  p.reauth_max_age_s = config.reauth_max_age_s;
  p.max_sessions_per_user = config.max_sessions_per_user;
  p.password_rules.min_length = config.password_min_length;
  p.password_rules.min_strength = config.password_min_strength;
  p.throttle.free_failures = config.login_free_failures;
  p.throttle.delay_base_s = config.login_delay_base_s;
  p.throttle.delay_max_s = config.login_delay_max_s;
  p.throttle.email_failures = config.login_email_failures;
  p.reveal_unknown_email = config.login_reveal_unknown_email;
  if (config.mfa_encryption_key) p.mfa_key = *config.mfa_encryption_key;
  p.mfa_issuer = config.mfa_issuer;
  p.mail.public_base_url = config.public_base_url;
  p.mail.mail_from = config.mail_from;
  p.mail.mail_from_address = config.mail_from_address;
  p.mail.verify_token_ttl_s = config.verify_token_ttl_s;
  p.mail.reset_token_ttl_s = config.reset_token_ttl_s;
  p.mail.invite_token_ttl_s = config.invite_token_ttl_s;
  p.mail.cap_per_hour = config.mail_cap_per_hour;
  p.mail.request_queue_max = config.mail_request_queue_max;
  p.mail.require_verified_email = config.require_verified_email;
  p.relying_party.id = config.webauthn_rp_id;
  p.relying_party.name = config.webauthn_rp_name;
  p.relying_party.origins = config.webauthn_origins;
  p.max_passkeys_per_user = config.max_passkeys_per_user;
  return p;
}

AdminPolicy admin_policy(const Config& config) {
  AdminPolicy p;
  p.secret_key = config.secret_key;
  p.mail = service_policy(config).mail;
  p.refresh_idle_ttl_s = config.refresh_idle_ttl_s;
  return p;
}

namespace {
std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}
}  // namespace

std::optional<JwtSettings> jwt_settings(const Config& config) {
  JwtSettings jwt;
  jwt.algorithm = config.jwt_alg;
  jwt.hmac_secret = config.secret_key;
  jwt.issuer = config.jwt_issuer;
  jwt.audience = config.jwt_audience;
  if (config.jwt_alg == "ES256") {
    auto key = read_file(config.jwt_private_key_file);
    if (!key) {
      std::fprintf(stderr, "authd: configuration error: JWT_PRIVATE_KEY_FILE: cannot read %s\n",
                   config.jwt_private_key_file.c_str());
      return std::nullopt;
    }
    jwt.private_key_pem = std::move(*key);
    if (!config.jwt_previous_public_key_file.empty()) {
      auto previous = read_file(config.jwt_previous_public_key_file);
      if (!previous) {
        std::fprintf(stderr,
                     "authd: configuration error: JWT_PREVIOUS_PUBLIC_KEY_FILE: cannot read %s\n",
                     config.jwt_previous_public_key_file.c_str());
        return std::nullopt;
      }
      jwt.previous_public_key_pem = std::move(*previous);
    }
  }
  try {
    JwtSigner check(jwt);
  } catch (const std::exception& e) {
    const char* variable = config.jwt_alg == "ES256" ? "JWT_PRIVATE_KEY_FILE" : "SECRET_KEY";
    std::fprintf(stderr, "authd: configuration error: %s: %s\n", variable, e.what());
    return std::nullopt;
  }
  return jwt;
}

}  // namespace authd::cli
