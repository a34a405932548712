// `authd user disable|enable|revoke-sessions|unlock|mfa-reset|passkey-reset EMAIL`: operators'
// actions with the server's environment. Exit 0 on success; an email with no account exits 1, names
// the email and changes nothing. Nothing secret is printed.
#include <sodium.h>

#include <cstdio>
#include <string_view>

#include "adapters/crypto/sodium_random.h"
#include "adapters/crypto/system_clock.h"
#include "adapters/mysql/connection.h"
#include "adapters/mysql/email_token_store.h"
#include "adapters/mysql/mfa_store.h"
#include "adapters/mysql/outbox_store.h"
#include "adapters/mysql/passkey_store.h"
#include "adapters/mysql/session_store.h"
#include "adapters/mysql/throttle_store.h"
#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "auth/email.h"
#include "auth/operator_service.h"
#include "cli/commands.h"
#include "cli/startup.h"
#include "log/log.h"

namespace authd::cli {
namespace {

void user_usage() {
  std::fputs(
      "usage: authd user <action> EMAIL\n"
      "\n"
      "actions:\n"
      "  disable          disable the account and end all of its sessions\n"
      "  enable           enable a disabled account (sessions stay ended)\n"
      "  revoke-sessions  end every session of the account\n"
      "  unlock           clear the account's failed-login counters\n"
      "  mfa-reset        remove the second factor (lost device and codes); ends all sessions\n"
      "  passkey-reset    remove every passkey of the account (a lost device); mails a notice\n",
      stderr);
}

}  // namespace

int user(int argc, char** argv) {
  log::set_component("operator");
  if (argc != 2) {
    user_usage();
    return 2;
  }
  const std::string_view action = argv[0];
  const std::string email = email::normalise(argv[1]);
  const std::optional<Config> loaded = load_config(ConfigPurpose::operator_command);
  if (!loaded) return 2;
  const Config& config = *loaded;

  try {
    mysql::Connection connection(config.db, mysql::Account::app);
    mysql::MysqlUserStore users(connection);
    mysql::MysqlSessionStore sessions(connection);
    mysql::MysqlThrottleStore throttle(connection);
    mysql::MysqlMfaStore mfa(connection);
    mysql::MysqlTransactionRunner transactions(connection);
    SystemClock clock;
    mysql::MysqlEmailTokenStore email_tokens(connection);
    OperatorService service(users, sessions, throttle, mfa, email_tokens, transactions, clock);

    Outcome<OperatorResult> outcome = AuthError{AuthErrc::not_found, "", 0, {}, {}};
    if (action == "disable") {
      outcome = service.disable_user(email);
    } else if (action == "enable") {
      outcome = service.enable_user(email);
    } else if (action == "revoke-sessions") {
      outcome = service.revoke_user_sessions(email);
    } else if (action == "unlock") {
      outcome = service.unlock_user(email);
    } else if (action == "mfa-reset") {
      outcome = service.reset_mfa(email);
    } else if (action == "passkey-reset") {
      if (sodium_init() < 0) throw std::runtime_error("libsodium could not initialise");
      mysql::MysqlPasskeyStore passkeys(connection);
      mysql::MysqlOutboxStore outbox(connection);
      SodiumRandom random;
      const MailPolicy mail = service_policy(config).mail;
      outcome = service.reset_passkeys(email, PasskeyResetDeps{passkeys, outbox, random, mail});
    } else {
      std::fprintf(stderr, "authd user: unknown action \"%.*s\"\n\n",
                   static_cast<int>(action.size()), action.data());
      user_usage();
      return 2;
    }
    if (!outcome) {
      std::fprintf(stderr, "authd user %.*s: no account has the email %s; nothing changed\n",
                   static_cast<int>(action.size()), action.data(), email.c_str());
      return 1;
    }
    const OperatorResult& r = outcome.value();
    if (action == "disable") {
      std::printf("disabled %s (user %s); %d session(s) ended\n", email.c_str(),
                  r.user.id.to_string().c_str(), r.sessions_ended);
    } else if (action == "enable") {
      std::printf("enabled %s (user %s)\n", email.c_str(), r.user.id.to_string().c_str());
    } else if (action == "revoke-sessions") {
      std::printf("ended %d session(s) of %s (user %s)\n", r.sessions_ended, email.c_str(),
                  r.user.id.to_string().c_str());
    } else if (action == "unlock") {
      std::printf("unlocked %s (user %s); %d counter(s) cleared\n", email.c_str(),
                  r.user.id.to_string().c_str(), r.counters_cleared);
    } else if (action == "passkey-reset") {
      std::printf("%d passkey(s) removed from %s (user %s)\n", r.passkeys_removed, email.c_str(),
                  r.user.id.to_string().c_str());
    } else {
      std::printf("second factor removed from %s (user %s); %d session(s) ended\n", email.c_str(),
                  r.user.id.to_string().c_str(), r.sessions_ended);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "authd user %.*s: failed: %s\n", static_cast<int>(action.size()),
                 action.data(), e.what());
    return 1;
  }
}

}  // namespace authd::cli
