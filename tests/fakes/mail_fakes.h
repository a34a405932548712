#pragma once
// In-memory fakes of the email ports (tokens, outbox, requests, transport),
// for unit tests of the use cases and of the delivery loop.
#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ports/email_token_store.h"
#include "ports/mail_transport.h"
#include "ports/outbox_store.h"
#include "ports/store_errors.h"

namespace authd::testing {

class InMemoryEmailTokenStore final : public EmailTokenStore {
 public:
  void insert(const EmailToken& token) override { tokens[token.hash] = token; }
  std::optional<EmailToken> find_for_update(std::string_view hash) override { return find(hash); }
  std::optional<EmailToken> find(std::string_view hash) override {
    auto it = tokens.find(std::string(hash));
    if (it == tokens.end()) return std::nullopt;
    return it->second;
  }
  bool remove(std::string_view hash) override { return tokens.erase(std::string(hash)) == 1; }
  int remove_all(const Uuid& user_id, LinkPurpose purpose) override {
    return static_cast<int>(std::erase_if(tokens, [&](const auto& entry) {
      return entry.second.user_id == user_id && entry.second.purpose == purpose;
    }));
  }
  int purge_expired(UnixSeconds before) override {
    return static_cast<int>(
        std::erase_if(tokens, [&](const auto& entry) { return entry.second.expires_at < before; }));
  }
  std::function<std::function<void()>()> snapshot() {
    return [this] { return [this, saved = tokens] { tokens = saved; }; };
  }
  std::map<std::string, EmailToken> tokens;
};

// Both sides of the outbox; rows are never deleted except by purge.
class InMemoryOutbox final : public OutboxStore, public OutboxDelivery {
 public:
  struct Row {
    OutgoingMail mail;
    int state = 0;  // 0 pending, 1 sent, 2 abandoned
    unsigned attempts = 0;
    UnixSeconds next_attempt_at = 0;
    UnixSeconds finished_at = 0;
    std::string last_error;
  };

  void enqueue(const OutgoingMail& mail) override {
    if (unavailable) throw StoreUnavailable("fake: database down");
    rows[next_id] = Row{mail, 0, 0, mail.created_at, 0, {}};
    ++next_id;
  }
  unsigned count_capped_since(const Uuid& user_id, UnixSeconds since) override {
    return static_cast<unsigned>(std::count_if(rows.begin(), rows.end(), [&](const auto& e) {
      return e.second.mail.user_id == user_id && e.second.mail.counts_toward_cap &&
             e.second.mail.created_at > since;
    }));
  }
  std::optional<Pending> claim_next_due(UnixSeconds now) override {
    const Row* best = nullptr;
    std::int64_t best_id = 0;
    for (const auto& [id, row] : rows) {
      if (row.state != 0 || row.next_attempt_at > now) continue;
      if (!best || row.next_attempt_at < best->next_attempt_at) {
        best = &row;
        best_id = id;
      }
    }
    if (!best) return std::nullopt;
    Pending p;
    p.id = best_id;
    p.user_id = best->mail.user_id;
    p.kind = best->mail.kind;
    p.recipient = best->mail.recipient;
    p.message = best->mail.message;
    p.attempts = best->attempts;
    p.created_at = best->mail.created_at;
    p.expires_at = best->mail.expires_at;
    return p;
  }
  void lease(std::int64_t id, UnixSeconds until) override {
    if (unavailable) throw StoreUnavailable("fake: database down");
    Row& row = rows.at(id);
    if (row.state == 0) row.next_attempt_at = until;
    if (on_lease) on_lease(id);
  }
  void mark_sent(std::int64_t id, UnixSeconds now) override {
    if (rows.at(id).state == 0) finish(id, 1, now);
  }
  void mark_retry(std::int64_t id, UnixSeconds next_attempt_at, std::string_view error) override {
    Row& row = rows.at(id);
    ++row.attempts;
    row.next_attempt_at = next_attempt_at;
    row.last_error = std::string(error);
  }
  void mark_abandoned(std::int64_t id, UnixSeconds now) override { finish(id, 2, now); }
  int purge_finished(UnixSeconds before) override {
    return static_cast<int>(std::erase_if(
        rows, [&](const auto& e) { return e.second.state != 0 && e.second.finished_at < before; }));
  }
  std::function<std::function<void()>()> snapshot() {
    return [this] { return [this, saved = rows, id = next_id] { rows = saved, next_id = id; }; };
  }
  std::vector<const Row*> pending() const {
    std::vector<const Row*> out;
    for (const auto& [id, row] : rows)
      if (row.state == 0) out.push_back(&row);
    return out;
  }

  std::map<std::int64_t, Row> rows;
  std::int64_t next_id = 1;
  bool unavailable = false;
  std::function<void(std::int64_t)> on_lease;  // a test's hook

 private:
  void finish(std::int64_t id, int state, UnixSeconds now) {
    Row& row = rows.at(id);
    if (!row.mail.user_id) {
      rows.erase(id);  // a message that names no account is not kept
      return;
    }
    row.state = state;
    row.mail.message.clear();
    row.finished_at = now;
  }
};

class InMemoryMailRequests final : public MailRequestStore {
 public:
  bool add(LinkPurpose kind, std::string_view email, UnixSeconds now,
           unsigned max_pending) override {
    ++adds;
    for (const auto& r : queue)
      if (r.kind == kind && r.email == email) return false;
    if (queue.size() >= max_pending) return false;
    queue.push_back(MailRequest{next_id++, kind, std::string(email), now});
    return true;
  }
  std::optional<MailRequest> claim_next() override {
    if (queue.empty()) return std::nullopt;
    return queue.front();
  }
  void remove(std::int64_t id) override {
    std::erase_if(queue, [&](const MailRequest& r) { return r.id == id; });
  }
  std::function<std::function<void()>()> snapshot() {
    return [this] { return [this, saved = queue] { queue = saved; }; };
  }
  std::vector<MailRequest> queue;
  std::int64_t next_id = 1;
  int adds = 0;
};

// Records what it was given; answers what the test scripted (sent when
// the script is empty).
class RecordingTransport final : public MailTransport {
 public:
  struct Sent {
    std::string from;
    std::string to;
    std::string message;
  };
  SendResult send(std::string_view from, std::string_view to, std::string_view message) override {
    ++attempts;
    if (on_send) on_send();
    if (!script.empty()) {
      SendResult next = script.front();
      script.erase(script.begin());
      if (!next.ok()) return next;
    }
    sent.push_back({std::string(from), std::string(to), std::string(message)});
    return {};
  }
  void close_connection() override { ++closes; }
  std::vector<SendResult> script;
  std::function<void()> on_send;  // a test's hook
  std::vector<Sent> sent;
  int attempts = 0;
  int closes = 0;
};

}  // namespace authd::testing
