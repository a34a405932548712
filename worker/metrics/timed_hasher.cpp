#include "metrics/timed_hasher.h"

#include <chrono>

namespace authd::metrics {

using Clock = std::chrono::steady_clock;

std::string TimedHasher::hash(std::string_view password) {
  const auto started = Clock::now();
  std::string result = inner_.hash(password);
  sink_.password_work(PasswordWork::hash, Clock::now() - started);
  return result;
}

bool TimedHasher::verify(std::string_view stored_hash, std::string_view password) {
  const auto started = Clock::now();
  const bool ok = inner_.verify(stored_hash, password);
  sink_.password_work(PasswordWork::verify, Clock::now() - started);
  return ok;
}

}  // namespace authd::metrics
