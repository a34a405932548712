#pragma once
// Environment variables → one validated Config. The names keep those of the
// Python service this replaces (MYSQL_*, LOGLEVEL, API_WORKERS,
// DEFAULT_TOKEN_EXPIRY, SECRET_KEY) and add the ones API.md lists.
//
// An empty variable counts as unset (compose files pass empty strings).
// Integers are plain decimal digits within the range given beside each field;
// booleans are true/false, 1/0, yes/no, on/off in any case.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace authd {

enum class LogLevel { debug, info, warning, error };

enum class MailMode {
  file,  // each message written to var/mail/ as an .eml file (local runs)
  smtp,  // sent through SMTP_URL
};

// One database server of MYSQL_HOST's list.
struct DbHost {
  std::string host;  // a name or an address (an IPv6 one without its brackets)
  unsigned port = 3306;
  bool operator==(const DbHost&) const = default;
};

// MYSQL_HOST: `host[:port]` or a comma-separated list of them, the first
// preferred (a Galera cluster's nodes); IPv6 addresses in brackets
// (`[::1]:3306`). An entry without a port gets `default_port` (MYSQL_PORT).
// Empty when the text is not such a list (an empty entry, a bad port).
std::vector<DbHost> parse_db_hosts(std::string_view text, unsigned default_port);

// The list as Connector/C takes it in mysql_real_connect's host argument.
std::string db_host_label(const DbHost& host);

struct DbSettings {
  std::string host = "127.0.0.1";  // MYSQL_HOST, one host or a list (parse_db_hosts)
  unsigned port = 3306;            // MYSQL_PORT, 1..65535: for entries without a port
  std::string user;                // MYSQL_USER
  std::string password;            // MYSQL_PASSWORD, may be empty
  std::string database;            // MYSQL_DB
  std::string migrate_user;        // MYSQL_MIGRATE_USER, defaults to user
  std::string migrate_password;    // MYSQL_MIGRATE_PASSWORD, defaults to password
  unsigned connect_timeout_s = 2;  // MYSQL_CONNECT_TIMEOUT, 1..3600
  unsigned read_timeout_s = 5;     // MYSQL_READ_TIMEOUT, 1..3600
  unsigned write_timeout_s = 5;    // MYSQL_WRITE_TIMEOUT, 1..3600
  std::string ssl_ca;              // MYSQL_SSL_CA: verify the server against this CA
  bool ssl_required = false;       // MYSQL_SSL: require TLS (without a CA: encrypted, unverified)
  // With several hosts: while connected to another than the first, how often
  // (at most) a worker asks whether an earlier one is usable again, to move
  // back to it between transactions.
  unsigned failback_s = 5;  // MYSQL_FAILBACK_S, 1..3600
};

inline constexpr std::size_t kMfaKeyBytes = 32;  // crypto_secretbox_KEYBYTES

struct Config {
  DbSettings db;

  // Pool and process.
  unsigned workers = 1;                   // API_WORKERS, 1..256, default: README "Performance"
  std::string listen = "127.0.0.1:9000";  // FCGI_LISTEN: absolute unix path, host:port or :port
  // The fast lane (README "Reliability"): its own processes on their own
  // socket for the routes that never compute Argon2id. 0: none (every route
  // is served from FCGI_LISTEN).
  unsigned fast_workers = 2;  // API_FAST_WORKERS, 0..256
  std::string fast_listen;    // FCGI_FAST_LISTEN [derived from FCGI_LISTEN: fast_listen_for()]
  int listen_backlog = -1;    // FCGI_BACKLOG, 1..65535; -1 (unset) = the kernel's somaxconn
  // Admission by waiting time (admission/gate.h).
  std::int64_t admission_budget_ms = 3000;  // ADMISSION_BUDGET_MS, 10..60000
  std::int64_t admission_standing_budget_ms =
      30;  // ADMISSION_STANDING_BUDGET_MS, 1..budget [min(30, budget)]
  std::int64_t admission_max_clock_skew_ms = 30000;  // ADMISSION_MAX_CLOCK_SKEW_MS, 100..3600000
  // FCGI_SOCKET_GROUP: the group of the unix sockets (mode 0660), a name or
  // a number; empty = this process's group.
  std::string fcgi_socket_group;
  LogLevel log_level = LogLevel::info;  // LOGLEVEL: DEBUG, INFO, WARNING/WARN, ERROR/CRITICAL
  unsigned http_port = 8080;  // HTTP_PORT, 1..65535 (read by nginx templates; validated here)
  std::uint64_t memory_budget_mib = 0;  // MEMORY_BUDGET_MIB, 1..16777216; 0 (unset) = derived

  // Tokens.
  std::string secret_key;                    // SECRET_KEY, >= 32 bytes; required to serve
  std::string jwt_alg = "HS256";             // JWT_ALG: HS256 or ES256 (any case on input)
  std::string jwt_private_key_file;          // JWT_PRIVATE_KEY_FILE, required with ES256 to serve
  std::string jwt_previous_public_key_file;  // JWT_PREVIOUS_PUBLIC_KEY_FILE
  std::string jwt_issuer = "auth";           // JWT_ISSUER
  std::string jwt_audience = "auth";         // JWT_AUDIENCE
  std::int64_t token_ttl_s = 900;            // DEFAULT_TOKEN_EXPIRY, 1..86400
  std::int64_t refresh_reuse_grace_s = 10;   // REFRESH_REUSE_GRACE, 0..300
  std::int64_t refresh_idle_ttl_s = 14 * 86400;      // REFRESH_IDLE_TTL, 1..31536000
  std::int64_t refresh_absolute_ttl_s = 30 * 86400;  // REFRESH_ABSOLUTE_TTL, 1..31536000, >= idle
  unsigned max_sessions_per_user = 50;               // MAX_SESSIONS_PER_USER, 1..10000
  std::int64_t reauth_max_age_s = 300;               // REAUTH_MAX_AGE, 1..86400

  // Passwords.
  unsigned password_min_length = 8;         // PASSWORD_MIN_LENGTH, 8..256 (ASVS 5.0 6.2.1 floor)
  unsigned password_min_strength = 3;       // PASSWORD_MIN_STRENGTH, 0..4
  std::string password_pepper;              // PASSWORD_PEPPER, empty or >= 32 bytes
  std::uint64_t argon2_memory_kib = 19456;  // ARGON2_MEMORY_KIB, 8..4194304 (libsodium's limits)
  std::uint64_t argon2_iterations = 2;      // ARGON2_ITERATIONS, 1..64
  // Together at least one of OWASP's Argon2id pairs (argon2_meets_floor),
  // unless AUTHD_TEST_WEAK_ARGON2 (test runs only) says otherwise.
  bool test_weak_argon2 = false;  // AUTHD_TEST_WEAK_ARGON2

  // Throttling.
  unsigned ip_rate_limit = 60;               // IP_RATE_LIMIT per minute, 0..100000, 0 = off
  std::vector<std::string> trusted_proxies;  // TRUSTED_PROXIES: CIDRs, normalised "addr/prefix"
  unsigned login_free_failures = 5;          // LOGIN_FREE_FAILURES, 0..1000
  std::int64_t login_delay_base_s = 30;      // LOGIN_DELAY_BASE, 1..86400
  std::int64_t login_delay_max_s = 900;      // LOGIN_DELAY_MAX, 1..86400, >= base
  unsigned login_email_failures = 20;        // LOGIN_EMAIL_FAILURES, 1..100000
  bool login_reveal_unknown_email = false;   // LOGIN_REVEAL_UNKNOWN_EMAIL
  unsigned mail_cap_per_hour = 5;            // MAIL_CAP_PER_HOUR, 1..1000
  unsigned mail_request_queue_max = 1000;    // MAIL_REQUEST_QUEUE_MAX, 1..1000000

  // Email. With MAIL_MODE=smtp, MAIL_FROM and PUBLIC_BASE_URL must be set
  // (serve, mailer) and SMTP_URL too (mailer); in file mode the defaults
  // below serve a local run.
  MailMode mail_mode = MailMode::file;  // MAIL_MODE: file or smtp
  std::string smtp_url;                 // SMTP_URL: smtp://host[:port] or smtps://host[:port]
  std::string smtp_user;                // SMTP_USER (set together with SMTP_PASSWORD)
  std::string smtp_password;            // SMTP_PASSWORD
  std::string smtp_ca_file;  // SMTP_CA_FILE: PEM CAs that verify the SMTP server [system store]
  // SMTP_ALLOW_PLAINTEXT: a relay that is not on loopback may be spoken to
  // without TLS (STARTTLS only tried). Off: TLS is required there.
  bool smtp_allow_plaintext = false;
  std::string mail_dir = "var/mail";  // MAIL_DIR: where MAIL_MODE=file writes its .eml files
  unsigned mail_poll_ms = 1000;       // MAIL_POLL_MS, 50..60000: how often the mailer looks
  std::string mail_from = "authd <noreply@localhost>";  // MAIL_FROM: addr or "Name <addr>"
  std::string mail_from_address = "noreply@localhost";  // the addr part, for the SMTP envelope
  // PUBLIC_BASE_URL, no trailing '/', at most 512 bytes; default https://localhost:HTTPS_PORT
  std::string public_base_url;
  bool require_verified_email = false;      // REQUIRE_VERIFIED_EMAIL
  std::int64_t verify_token_ttl_s = 86400;  // VERIFY_TOKEN_TTL, 1..2592000
  std::int64_t reset_token_ttl_s = 1800;    // RESET_TOKEN_TTL, 1..86400

  // Second factor.
  // MFA_ENCRYPTION_KEY: 64 hex digits or base64 (padded or not, standard or
  // URL-safe) of 32 bytes; the decoded bytes are kept. Required to serve.
  std::optional<std::array<unsigned char, kMfaKeyBytes>> mfa_encryption_key;
  std::string mfa_issuer = "auth";  // MFA_ISSUER: 1..100 bytes, no ':' nor control characters

  // Passkeys (WebAuthn). The RP id is a lower-case host name; each origin is
  // scheme://host[:port] (http only for localhost, as browsers allow),
  // normalised (lower case, no default port), on the RP id or below it.
  std::string webauthn_rp_id;                 // WEBAUTHN_RP_ID [the host of PUBLIC_BASE_URL]
  std::string webauthn_rp_name;               // WEBAUTHN_RP_NAME [MFA_ISSUER], 1..100 bytes
  std::vector<std::string> webauthn_origins;  // WEBAUTHN_ORIGINS [the origin of PUBLIC_BASE_URL]
  unsigned max_passkeys_per_user = 10;        // MAX_PASSKEYS_PER_USER, 1..100

  // TLS (nginx's side; validated here so every process agrees).
  unsigned https_port = 8443;           // HTTPS_PORT, 1..65535, != HTTP_PORT
  std::string tls_cert;                 // TLS_CERT (PEM path), set together with TLS_KEY
  std::string tls_key;                  // TLS_KEY (PEM path)
  bool http_redirect_to_https = false;  // HTTP_REDIRECT_TO_HTTPS

  // Metrics.
  std::vector<std::string> metrics_allow = {"127.0.0.1/32", "::1/128"};  // METRICS_ALLOW: CIDRs

  // Admin API. nginx answers /admin/ only to ADMIN_ALLOW (render.sh reads
  // it too); the worker checks it again.
  std::vector<std::string> admin_allow = {"127.0.0.1/32", "::1/128"};  // ADMIN_ALLOW: CIDRs
  std::int64_t invite_token_ttl_s = 604800;  // INVITE_TOKEN_TTL, 60..2592000
};

// OWASP's Password Storage Cheat Sheet floor for Argon2id (one lane): 46 MiB
// with t=1, 19 MiB with t=2, 12 MiB with t=3, 9 MiB with t=4, 7 MiB with
// t=5. A cost meets it when it is at least one of those pairs.
bool argon2_meets_floor(std::uint64_t memory_kib, std::uint64_t iterations);

// What a failed parse says: one line naming the variable and what is wrong.
// It never carries the value of a secret, only its length or shape.
struct ConfigError {
  std::string message;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Which settings a command needs. Every value that is set is validated
// whatever the purpose; what must be present differs:
//   serve: MYSQL_USER, MYSQL_DB, SECRET_KEY, MFA_ENCRYPTION_KEY (and
//          JWT_PRIVATE_KEY_FILE with ES256; MAIL_FROM and PUBLIC_BASE_URL with smtp);
//   migrate: MYSQL_DB and MYSQL_MIGRATE_USER or MYSQL_USER;
//   operator_command: MYSQL_USER, MYSQL_DB;
//   mailer: MYSQL_USER, MYSQL_DB (and SMTP_URL, MAIL_FROM, PUBLIC_BASE_URL with
//           smtp: the mailer writes the resend and forgot messages).
enum class ConfigPurpose { serve, migrate, operator_command, mailer };

std::variant<Config, ConfigError> parse_config(const EnvLookup& env, ConfigPurpose purpose,
                                               unsigned detected_cpus);

// Reads the process environment.
EnvLookup process_env();

// The fast lane's socket when FCGI_FAST_LISTEN is unset, derived from
// FCGI_LISTEN the way nginx/render.sh derives it from FCGI_TARGET: a unix
// path `DIR/NAME.sock` gives `DIR/NAME-fast.sock` (`PATH` without `.sock`:
// `PATH-fast`), `host:port` gives `host:port+1`. Empty when there is no such
// port (65535).
std::string fast_listen_for(const std::string& listen);

}  // namespace authd
