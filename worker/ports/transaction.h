#pragma once
// Runs a use case's writes as one unit: all of them or none. A store failure
// inside `body` rolls back and propagates.
#include <functional>

namespace authd {

class TransactionRunner {
 public:
  virtual ~TransactionRunner() = default;
  virtual void in_transaction(const std::function<void()>& body) = 0;
};

}  // namespace authd
