#include "webauthn/cbor.h"

#include <limits>

namespace authd::webauthn {
namespace {

// WebAuthn's deepest structure (an attestationObject holding an attStmt
// with an x5c array) is three levels; a margin, and a bound that keeps the
// check's recursion small for any input.
constexpr int kMaxDepth = 16;

bool canonical_within(const cbor_item_t* item, int depth) {
  if (depth > kMaxDepth) return false;
  switch (cbor_typeof(item)) {
    case CBOR_TYPE_BYTESTRING:
      return cbor_bytestring_is_definite(item);
    case CBOR_TYPE_STRING:
      return cbor_string_is_definite(item);
    case CBOR_TYPE_ARRAY: {
      if (!cbor_array_is_definite(item)) return false;
      cbor_item_t** items = cbor_array_handle(item);
      for (std::size_t i = 0; i < cbor_array_size(item); ++i)
        if (!canonical_within(items[i], depth + 1)) return false;
      return true;
    }
    case CBOR_TYPE_MAP: {
      if (!cbor_map_is_definite(item)) return false;
      struct cbor_pair* pairs = cbor_map_handle(item);
      for (std::size_t i = 0; i < cbor_map_size(item); ++i) {
        if (!canonical_within(pairs[i].key, depth + 1)) return false;
        if (!canonical_within(pairs[i].value, depth + 1)) return false;
      }
      return true;
    }
    case CBOR_TYPE_TAG:
      return false;  // CTAP2's canonical CBOR has no tags
    default:
      return true;
  }
}

// The length of the well-formed item at the start of `in`, judged before
// libcbor sees it: libcbor 0.8 allocates what a header declares (an array
// "of 2.6 billion items" in five bytes asks for 20 GB), so every declared
// length is checked against the bytes that are left first (an element takes
// at least one byte, a map entry two). Indefinite lengths, tags, reserved
// additional information and nesting beyond kMaxDepth are refused.
std::optional<std::size_t> scan(std::string_view in, std::size_t at, int depth) {
  if (depth > kMaxDepth || at >= in.size()) return std::nullopt;
  const auto head = static_cast<unsigned char>(in[at++]);
  const int major = head >> 5;
  const int info = head & 0x1f;
  std::uint64_t value = static_cast<std::uint64_t>(info);
  if (info >= 24) {
    if (info > 27) return std::nullopt;  // reserved, or indefinite / break
    const std::size_t bytes = std::size_t{1} << (info - 24);
    if (in.size() - at < bytes) return std::nullopt;
    value = 0;
    for (std::size_t i = 0; i < bytes; ++i)
      value = value << 8 | static_cast<unsigned char>(in[at++]);
  }
  const std::uint64_t left = in.size() - at;
  switch (major) {
    case 0:
    case 1:
    case 7:  // integers, simple values and floats: the head is all of it
      return at;
    case 2:
    case 3:
      if (value > left) return std::nullopt;
      return at + static_cast<std::size_t>(value);
    case 4:
    case 5: {
      const std::uint64_t items = major == 4 ? value : value * 2;
      if (value > left || items > left) return std::nullopt;
      for (std::uint64_t i = 0; i < items; ++i) {
        auto next = scan(in, at, depth + 1);
        if (!next) return std::nullopt;
        at = *next;
      }
      return at;
    }
    default:  // 6: tags (CTAP2's canonical CBOR has none)
      return std::nullopt;
  }
}

}  // namespace

CborItem::~CborItem() {
  if (item_ != nullptr) cbor_decref(&item_);
}

CborItem& CborItem::operator=(CborItem&& other) noexcept {
  if (this != &other) {
    if (item_ != nullptr) cbor_decref(&item_);
    item_ = other.item_;
    other.item_ = nullptr;
  }
  return *this;
}

std::optional<CborPrefix> load_cbor_prefix(std::string_view bytes) {
  const auto length = scan(bytes, 0, 0);
  if (!length) return std::nullopt;
  struct cbor_load_result result {};
  CborItem item(cbor_load(reinterpret_cast<cbor_data>(bytes.data()), *length, &result));
  if (!item || result.error.code != CBOR_ERR_NONE || result.read != *length) {
    return std::nullopt;
  }
  if (!canonical_within(item.get(), 0)) return std::nullopt;
  return CborPrefix{std::move(item), result.read};
}

std::optional<CborItem> load_cbor(std::string_view bytes) {
  auto prefix = load_cbor_prefix(bytes);
  if (!prefix || prefix->length != bytes.size()) return std::nullopt;
  return std::move(prefix->item);
}

const cbor_item_t* map_text_member(const cbor_item_t* map, std::string_view key) {
  if (map == nullptr || !cbor_isa_map(map)) return nullptr;
  struct cbor_pair* pairs = cbor_map_handle(map);
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    const cbor_item_t* k = pairs[i].key;
    if (!cbor_isa_string(k)) continue;
    const std::string_view text(reinterpret_cast<const char*>(cbor_string_handle(k)),
                                cbor_string_length(k));
    if (text == key) return pairs[i].value;
  }
  return nullptr;
}

std::optional<std::int64_t> cbor_int(const cbor_item_t* item) {
  if (item == nullptr) return std::nullopt;
  if (cbor_isa_uint(item)) {
    const std::uint64_t v = cbor_get_int(item);
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(v);
  }
  if (cbor_isa_negint(item)) {
    // A CBOR negative integer n stands for -1 - n.
    const std::uint64_t n = cbor_get_int(item);
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return -1 - static_cast<std::int64_t>(n);
  }
  return std::nullopt;
}

const cbor_item_t* map_int_member(const cbor_item_t* map, std::int64_t key) {
  if (map == nullptr || !cbor_isa_map(map)) return nullptr;
  struct cbor_pair* pairs = cbor_map_handle(map);
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    if (cbor_int(pairs[i].key) == key) return pairs[i].value;
  }
  return nullptr;
}

std::string cbor_bytes(const cbor_item_t* item) {
  if (item == nullptr) return {};
  if (cbor_isa_bytestring(item) && cbor_bytestring_is_definite(item)) {
    return std::string(reinterpret_cast<const char*>(cbor_bytestring_handle(item)),
                       cbor_bytestring_length(item));
  }
  if (cbor_isa_string(item) && cbor_string_is_definite(item)) {
    return std::string(reinterpret_cast<const char*>(cbor_string_handle(item)),
                       cbor_string_length(item));
  }
  return {};
}

}  // namespace authd::webauthn
