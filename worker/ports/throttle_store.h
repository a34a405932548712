#pragma once
#include <functional>
#include <string_view>

#include "ports/records.h"

namespace authd {

// Failure counters per (email, client address) and per email, kept in the
// database so the limits hold across workers and hosts. Rows exist for
// unknown emails too: they say nothing about who has an account.
class ThrottleStore {
 public:
  virtual ~ThrottleStore() = default;

  struct Counters {
    ThrottleCounter pair;
    ThrottleCounter email;
  };

  virtual Counters read(std::string_view email, std::string_view ip) = 0;
  // Applies one failure: both rows locked, `update` computes the new values.
  virtual void record_failure(std::string_view email, std::string_view ip,
                              const std::function<Counters(const Counters&)>& update) = 0;
  // A success: the pair and the email counters start again.
  virtual void clear(std::string_view email, std::string_view ip) = 0;
  // Operator unlock: every counter of the email. Returns rows removed.
  virtual int clear_all(std::string_view email) = 0;
};

}  // namespace authd
