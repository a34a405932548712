#pragma once
// What a store may throw. The HTTP layer maps StoreUnavailable to
// `503 unavailable` and anything else to `500 internal`; the service never
// sees SQL or error numbers.
#include <stdexcept>
#include <string>

namespace authd {

// The database could not be reached (connect refused, connection lost,
// timeout). Nothing was written, or the write was rolled back.
class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A COMMIT whose answer never arrived (the connection was lost while waiting
// for it): the transaction may or may not have been applied. A use case that
// must know (e.g. a password change) re-reads what it wrote; one that does
// not care treats it as StoreUnavailable, which it is.
class StoreCommitUnknown : public StoreUnavailable {
 public:
  using StoreUnavailable::StoreUnavailable;
};

// Any other database failure: a bug or a schema mismatch.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace authd
