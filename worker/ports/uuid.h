#pragma once
// A 128-bit identifier (users, sessions). Stored as BINARY(16) and shown as
// the canonical 8-4-4-4-12 lower-case hex form.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace authd {

struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  std::string to_string() const;
  static std::optional<Uuid> parse(std::string_view text);
  std::string_view as_bytes() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  static std::optional<Uuid> from_bytes(std::string_view raw);

  friend bool operator==(const Uuid&, const Uuid&) = default;
  friend auto operator<=>(const Uuid&, const Uuid&) = default;
};

}  // namespace authd
