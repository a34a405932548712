#pragma once
#include "adapters/mysql/connection.h"
#include "ports/throttle_store.h"

namespace authd::mysql {

// The key of an email's rows: the SHA-256 of the normalised email.
std::string throttle_email_key(std::string_view email);

// ThrottleStore on the `login_throttle` table: one row per (email, address)
// and one per email (address ''), keyed by the SHA-256 of the email.
// Each recorded failure also deletes a few rows untouched for a day and no
// longer blocking (counters are forgotten after an hour anyway), so the
// table holds only recent guessing.
class MysqlThrottleStore final : public ThrottleStore {
 public:
  explicit MysqlThrottleStore(Connection& connection) : connection_(connection) {}

  Counters read(std::string_view email, std::string_view ip) override;
  void record_failure(std::string_view email, std::string_view ip,
                      const std::function<Counters(const Counters&)>& update) override;
  void clear(std::string_view email, std::string_view ip) override;
  int clear_all(std::string_view email) override;

 private:
  Connection& connection_;
};

}  // namespace authd::mysql
