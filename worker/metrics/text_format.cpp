#include "metrics/text_format.h"

#include <charconv>
#include <cstdio>

namespace authd::metrics {
namespace {

// Shortest text that reads back as the same double ("0.005", "2.5", "10").
std::string number(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string seconds(std::uint64_t ns) {
  return number(static_cast<double>(ns) / 1e9);
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

std::string label(std::string_view name, std::string_view value) {
  std::string s(name);
  s += "=\"";
  s += escape_label_value(value);
  s += '"';
  return s;
}

// One histogram's series: cumulative buckets, _sum and _count.
template <std::size_t Bounds>
void histogram(std::string& out, const std::string& name, const std::string& labels,
               const std::array<std::uint64_t, Bounds>& bounds_ns,
               const HistogramValues<Bounds>& values) {
  const std::string prefix = labels.empty() ? std::string() : labels + ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= Bounds; ++i) {
    cumulative += values.counts[i];
    const std::string le = i < Bounds ? seconds(bounds_ns[i]) : std::string("+Inf");
    sample(out, name + "_bucket", prefix + label("le", le), cumulative);
  }
  out += name + "_sum";
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += seconds(values.sum_ns);
  out += '\n';
  sample(out, name + "_count", labels, cumulative);
}

const char* const kLoginOutcomeNames[kLoginOutcomes] = {"ok", "failed", "throttled", "disabled",
                                                        "mfa_required"};
const char* const kPasswordWorkNames[kPasswordWorks] = {"hash", "verify"};
const char* const kDatabaseFailureNames[kDatabaseFailures] = {"connect", "lost", "conflict",
                                                              "unusable_node"};
const char* const kLaneNames[kLanes] = {"hashing", "fast"};
const char* const kPasskeyRegistrationNames[kPasskeyRegistrations] = {"ok", "invalid", "exists",
                                                                      "limit"};
const char* const kPasskeyLoginKindNames[kPasskeyLoginKinds] = {"passwordless", "second_factor"};
const char* const kPasskeyLoginNames[kPasskeyLogins] = {"ok", "failed", "unknown_credential",
                                                        "invalid_challenge", "refused"};
const char* const kAdminOutcomeNames[kAdminOutcomes] = {
    "ok", "bad_request", "invalid_key", "insufficient_scope", "not_found", "refused", "error"};

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_text(const Snapshot& s, const std::vector<std::string>& route_names) {
  std::string out;
  out.reserve(16 * 1024);
  auto route_label = [&](std::size_t r) {
    return label("route", r < route_names.size() ? route_names[r] : "route_" + std::to_string(r));
  };

  header(out, "authd_http_requests_total", "counter",
         "HTTP requests answered by the worker pool, by route pattern and status.");
  for (std::size_t r = 0; r < kMaxRoutes; ++r) {
    for (std::size_t i = 0; i < kStatusSlots; ++i) {
      if (s.requests[r][i] == 0) continue;
      const std::string status = i < kStatuses.size() ? std::to_string(kStatuses[i]) : "other";
      sample(out, "authd_http_requests_total", route_label(r) + "," + label("status", status),
             s.requests[r][i]);
    }
  }

  header(out, "authd_http_request_duration_seconds", "histogram",
         "Time from the request reaching the HTTP layer to its answer, by route pattern.");
  for (std::size_t r = 0; r < kMaxRoutes; ++r) {
    if (s.latency[r].count() == 0) continue;
    histogram(out, "authd_http_request_duration_seconds", route_label(r), kLatencyBoundsNs,
              s.latency[r]);
  }

  header(out, "authd_password_hash_duration_seconds", "histogram",
         "Argon2id computations (hash: a new password; verify: a login or password check).");
  for (std::size_t w = 0; w < kPasswordWorks; ++w) {
    histogram(out, "authd_password_hash_duration_seconds",
              label("operation", kPasswordWorkNames[w]), kHashBoundsNs, s.password[w]);
  }

  header(out, "authd_logins_total", "counter",
         "Login attempts by outcome (ok: a session opened; failed: wrong password, unknown email "
         "or wrong second-factor code; throttled: refused per account before any check; "
         "disabled: right password, account disabled; mfa_required: right password, second "
         "factor pending).");
  for (std::size_t i = 0; i < kLoginOutcomes; ++i)
    sample(out, "authd_logins_total", label("outcome", kLoginOutcomeNames[i]), s.logins[i]);

  header(out, "authd_passkey_registrations_total", "counter",
         "Passkey registrations by outcome (ok; invalid: a WebAuthn check failed; exists: the "
         "credential id is registered already; limit: MAX_PASSKEYS_PER_USER reached).");
  for (std::size_t i = 0; i < kPasskeyRegistrations; ++i)
    sample(out, "authd_passkey_registrations_total", label("outcome", kPasskeyRegistrationNames[i]),
           s.passkey_registrations[i]);

  header(out, "authd_passkey_logins_total", "counter",
         "Passkey logins by kind (passwordless, or the second step of a password login) and "
         "outcome (ok; failed: a registered passkey failed a check; unknown_credential; "
         "invalid_challenge; refused: verified, but the account is disabled or unverified).");
  for (std::size_t k = 0; k < kPasskeyLoginKinds; ++k)
    for (std::size_t i = 0; i < kPasskeyLogins; ++i)
      sample(
          out, "authd_passkey_logins_total",
          label("kind", kPasskeyLoginKindNames[k]) + "," + label("outcome", kPasskeyLoginNames[i]),
          s.passkey_logins[k][i]);

  header(out, "authd_refresh_token_reuse_total", "counter",
         "Spent refresh tokens presented again outside the grace window (each ended a session).");
  sample(out, "authd_refresh_token_reuse_total", "", s.refresh_reuse);

  header(out, "authd_db_errors_total", "counter",
         "Database connections that could not be opened (connect) or were found lost (lost); "
         "transactions and writes rolled back by a conflict, then retried or given up "
         "(conflict); nodes that answered but could not take work (unusable_node).");
  for (std::size_t i = 0; i < kDatabaseFailures; ++i)
    sample(out, "authd_db_errors_total", label("kind", kDatabaseFailureNames[i]), s.db_failures[i]);

  header(out, "authd_db_reconnects_total", "counter",
         "Database connections opened again by a worker after it had lost one.");
  sample(out, "authd_db_reconnects_total", "", s.db_reconnects);

  header(out, "authd_worker_restarts_total", "counter",
         "Workers that died unexpectedly and were replaced by the master.");
  sample(out, "authd_worker_restarts_total", "", s.worker_restarts);

  header(out, "authd_admin_requests_total", "counter",
         "Admin API requests by route pattern and outcome (ok; bad_request: 400, 413, 415; "
         "invalid_key: 401; insufficient_scope: 403; not_found: 404; refused: another 4xx; "
         "error: 5xx). Addresses outside ADMIN_ALLOW are refused by nginx and not counted.");
  for (std::size_t r = 0; r < kMaxRoutes; ++r) {
    for (std::size_t i = 0; i < kAdminOutcomes; ++i) {
      if (s.admin_requests[r][i] == 0) continue;
      sample(out, "authd_admin_requests_total",
             route_label(r) + "," + label("outcome", kAdminOutcomeNames[i]),
             s.admin_requests[r][i]);
    }
  }

  header(out, "authd_workers", "gauge", "Worker processes alive in the pool.");
  sample(out, "authd_workers", "", s.workers_alive);

  header(out, "authd_workers_busy", "gauge",
         "Workers serving a request right now (the one answering this scrape included).");
  sample(out, "authd_workers_busy", "", s.workers_busy);

  header(out, "authd_admission_refused_total", "counter",
         "Requests refused (503 + Retry-After, nothing done) because they waited in the listen "
         "queue longer than the admission budget in force, by lane.");
  for (std::size_t l = 0; l < kLanes; ++l)
    sample(out, "authd_admission_refused_total", label("lane", kLaneNames[l]),
           s.admission_refused[l]);

  header(out, "authd_admission_wait_seconds", "histogram",
         "How long admitted requests waited in the listen queue before a worker took them, by "
         "lane.");
  for (std::size_t l = 0; l < kLanes; ++l)
    histogram(out, "authd_admission_wait_seconds", label("lane", kLaneNames[l]), kWaitBoundsNs,
              s.admission_wait[l]);

  header(out, "authd_admission_budget_seconds", "gauge",
         "The admission budget in force, by lane: the long one while the queue empties "
         "regularly, the short one once it has stood non-empty for the interval.");
  for (std::size_t l = 0; l < kLanes; ++l) {
    out += "authd_admission_budget_seconds{" + label("lane", kLaneNames[l]) + "} " +
           seconds(s.admission_budget_ms[l] * 1'000'000) + "\n";
  }

  header(out, "authd_admission_refusal_cpu_seconds_total", "counter",
         "CPU time the workers spent refusing requests for their wait (accept to close).");
  out += "authd_admission_refusal_cpu_seconds_total " + seconds(s.admission_refusal_cpu_ns) + "\n";
  return out;
}

}  // namespace authd::metrics
