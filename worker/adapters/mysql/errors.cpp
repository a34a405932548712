#include "adapters/mysql/errors.h"

#include <algorithm>
#include <array>

namespace authd::mysql {

bool is_connection_failure(int code) noexcept {
  using namespace error_code;
  switch (code) {
    case kConnectionError:
    case kConnHostError:
    case kServerGone:
    case kServerLost:
    case kSslConnectionError:
    case kServerLostExtended:
    case kServerShutdown:
    case kConnectionKilled:
    case kClientInteractionTimeout:
    case kNodeNotReady:
      return true;
    default:
      return false;
  }
}

bool is_conflict(int code) noexcept {
  return code == error_code::kLockDeadlock || code == error_code::kGroupReplicationRollback;
}

bool read_may_be_retried(int code) noexcept {
  using namespace error_code;
  // Not the connect errors: a server that just refused a connect would
  // refuse the retry too. 2026 is how a TLS connection reports the server's
  // end having gone (a restart): "unexpected eof while reading".
  // 1047: the node left the primary component or is still joining; it
  // refused the statement, and a fresh connection goes to a usable node.
  return code == kServerGone || code == kServerLost || code == kServerLostExtended ||
         code == kConnectionKilled || code == kClientInteractionTimeout ||
         code == kSslConnectionError || code == kNodeNotReady;
}

bool outcome_unknown(int code) noexcept {
  using namespace error_code;
  // 2006 means the command could not be sent, 1927/4031/1053 that the server
  // closed the session before reading it: in those cases nothing ran.
  return code == kServerLost || code == kServerLostExtended || code == kSslConnectionError;
}

std::string duplicate_key_name(std::string_view message) {
  // The value comes first and may itself contain "for key '": search from
  // the end, where the server puts the key name.
  constexpr std::string_view marker = "for key '";
  const auto at = message.rfind(marker);
  if (at == std::string_view::npos) return {};
  auto name = message.substr(at + marker.size());
  if (const auto end = name.rfind('\''); end != std::string_view::npos) name = name.substr(0, end);
  if (const auto dot = name.rfind('.'); dot != std::string_view::npos) name = name.substr(dot + 1);
  return std::string(name);
}

std::string redacted_server_message(int code, std::string_view message) {
  // Error numbers whose messages quote the data they refused.
  static constexpr std::array kQuotesValue = {
      1062,  // ER_DUP_ENTRY
      1292,  // ER_TRUNCATED_WRONG_VALUE
      1366,  // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
      1367,  // ER_ILLEGAL_VALUE_FOR_TYPE
      1411,  // ER_WRONG_VALUE_FOR_TYPE
      1557,  // ER_FOREIGN_DUPLICATE_KEY
      1586,  // ER_DUP_ENTRY_WITH_KEY_NAME
  };
  if (std::find(kQuotesValue.begin(), kQuotesValue.end(), code) != kQuotesValue.end()) {
    return "(message withheld: it quotes a value)";
  }
  return std::string(message);
}

}  // namespace authd::mysql
