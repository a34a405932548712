#include "auth/passkey_name.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "util/utf8.h"

namespace authd {

std::optional<std::string> passkey_name(std::string_view utf8) {
  // utf8proc_NFC reads up to a NUL: a NUL is a control character anyway.
  if (utf8.empty() || !is_valid_utf8(utf8) || utf8.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string terminated(utf8);
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> nfc(
      utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(terminated.c_str())), &std::free);
  if (!nfc) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(nfc.get()));
  std::size_t code_points = 0;
  const auto* cursor = reinterpret_cast<const utf8proc_uint8_t*>(out.data());
  auto remaining = static_cast<utf8proc_ssize_t>(out.size());
  while (remaining > 0) {
    utf8proc_int32_t c = 0;
    const utf8proc_ssize_t used = utf8proc_iterate(cursor, remaining, &c);
    if (used <= 0) return std::nullopt;
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return std::nullopt;
    ++code_points;
    cursor += used;
    remaining -= used;
  }
  if (code_points == 0 || code_points > kMaxPasskeyNameCodePoints) return std::nullopt;
  return out;
}

}  // namespace authd
