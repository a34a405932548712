// `authd mailer`: delivers the outbox, as a process of its own (never
// inside a request). Every MAIL_POLL_MS [1000] it
//   1. turns queued resend/forgot requests into links and messages (or
//      into nothing), one transaction each;
//   2. sends due messages, one transaction each (claim with SKIP LOCKED,
//      send, mark sent and erase the text), over SMTP or into MAIL_DIR;
//   3. now and then, deletes expired tokens and finished outbox rows.
// Several mailers may run at once. SIGTERM/SIGINT: the message in hand is
// finished, then it exits 0. Killed at any moment, it loses nothing: an
// unmarked message is still pending (and its row lock died with the
// connection), so the next mailer sends it.
#include <curl/curl.h>
#include <signal.h>
#include <sodium.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "adapters/crypto/sodium_random.h"
#include "adapters/crypto/system_clock.h"
#include "adapters/mail/curl_smtp_transport.h"
#include "adapters/mail/eml_file_transport.h"
#include "adapters/mysql/connection.h"
#include "adapters/mysql/email_token_store.h"
#include "adapters/mysql/outbox_store.h"
#include "adapters/mysql/transaction_runner.h"
#include "adapters/mysql/user_store.h"
#include "auth/mail_request_service.h"
#include "cli/commands.h"
#include "cli/startup.h"
#include "config/config.h"
#include "log/log.h"
#include "mail/backoff.h"
#include "mail/outbox_mailer.h"
#include "ports/store_errors.h"

namespace authd::cli {
namespace {

volatile sig_atomic_t g_stop = 0;

void on_stop_signal(int) {
  g_stop = 1;
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a sleep ends at once
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// Sleeps up to `ms`, ending early when a stop signal arrives.
void pause_ms(std::int64_t ms) {
  if (ms <= 0 || g_stop) return;
  timespec left{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1'000'000)};
  while (!g_stop && nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

constexpr unsigned kBatch = 50;           // per step, so neither step starves the other
constexpr UnixSeconds kPurgeEvery = 600;  // housekeeping
constexpr UnixSeconds kKeepFinished = 86400;

std::unique_ptr<MailTransport> make_transport(const Config& config, const Clock& clock,
                                              Random& random) {
  if (config.mail_mode == MailMode::file) {
    return std::make_unique<EmlFileTransport>(config.mail_dir, clock, random);
  }
  SmtpSettings smtp;
  smtp.url = config.smtp_url;
  smtp.user = config.smtp_user;
  smtp.password = config.smtp_password;
  smtp.ca_file = config.smtp_ca_file;
  smtp.allow_plaintext = config.smtp_allow_plaintext;
  return std::make_unique<CurlSmtpTransport>(std::move(smtp));
}

MailPolicy mail_policy(const Config& config) {
  return service_policy(config).mail;
}

}  // namespace

int mailer() {
  log::set_component("mailer");
  const std::optional<Config> loaded = load_config(ConfigPurpose::mailer);
  if (!loaded) return 2;
  const Config& config = *loaded;
  if (sodium_init() < 0) {
    log::error("startup_failed", {{"error", "libsodium could not initialise"}});
    return 1;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    log::error("startup_failed", {{"error", "libcurl could not initialise"}});
    return 1;
  }
  struct CurlGlobal {
    ~CurlGlobal() { curl_global_cleanup(); }
  } curl_global;
  install_signal_handlers();
  if (int rc = check_schema(config); rc != 0) return rc;

  mysql::Connection connection(config.db, mysql::Account::app);
  mysql::MysqlUserStore users(connection);
  mysql::MysqlEmailTokenStore tokens(connection);
  mysql::MysqlOutboxStore outbox(connection);
  mysql::MysqlMailRequestStore requests(connection);
  mysql::MysqlTransactionRunner transactions(connection);
  SystemClock clock;
  SodiumRandom random;
  auto transport = make_transport(config, clock, random);
  MailRequestService request_service(
      MailRequestDeps{users, tokens, outbox, requests, transactions, clock, random},
      mail_policy(config));
  mail::OutboxMailer delivery(outbox, transactions, *transport, clock, config.mail_from_address);

  log::info("mailer_started",
            {{"mode", config.mail_mode == MailMode::smtp ? "smtp" : "file"},
             {"target", config.mail_mode == MailMode::smtp ? config.smtp_url : config.mail_dir}});
  const auto keep_going = [] { return g_stop == 0; };
  UnixSeconds next_purge = 0;
  unsigned database_failures = 0;
  // MAIL_POLL_MS [1000]: a new message leaves within about that long.
  const std::int64_t poll_ms = config.mail_poll_ms;
  while (!g_stop) {
    std::int64_t wait_ms = poll_ms;
    try {
      unsigned handled = 0;
      while (handled < kBatch && keep_going() &&
             request_service.fulfil_next() != MailRequestService::Outcome::none_pending) {
        ++handled;
      }
      const mail::DeliveryReport report = delivery.deliver_due(kBatch, keep_going);
      // The relay session is not kept while idle.
      transport->close_connection();
      const UnixSeconds now = clock.now();
      if (now >= next_purge) {
        const int tokens_gone = tokens.purge_expired(now - kKeepFinished);
        const int rows_gone = outbox.purge_finished(now - kKeepFinished);
        if (tokens_gone + rows_gone > 0) {
          log::info("mail_housekeeping",
                    {{"expired_tokens", tokens_gone}, {"finished_messages", rows_gone}});
        }
        next_purge = now + kPurgeEvery;
      }
      database_failures = 0;
      const bool more = handled == kBatch ||
                        report.sent + report.failed + report.abandoned == static_cast<int>(kBatch);
      // More is waiting: go on at once. While the relay is away,
      // deliver_due itself holds back until its backoff has passed.
      if (more && !report.transport_unavailable) wait_ms = 0;
    } catch (const StoreUnavailable& e) {
      ++database_failures;
      // The database, unlike a relay, is ours: retry it soon (at most 5 s).
      const UnixSeconds delay =
          std::min<UnixSeconds>(5, mail::retry_delay_seconds(database_failures));
      log::warn("mailer_database_unavailable", {{"error", e.what()}, {"retry_in_s", delay}});
      wait_ms = delay * 1000;
    } catch (const std::exception& e) {
      log::error("mailer_error", {{"error", e.what()}});
      wait_ms = 5000;
    }
    pause_ms(wait_ms);
  }
  log::info("mailer_stopped", {});
  return 0;
}

}  // namespace authd::cli
