#pragma once
// Strict CBOR for hostile input (libcbor 0.8): one item of definite lengths
// throughout, no deeper than a WebAuthn structure ever is, and nothing after
// it unless the caller asks where it ended. libcbor accepts indefinite
// lengths and trailing bytes, which WebAuthn's CTAP2 canonical form has
// neither of, and allocates whatever length a header declares: the bytes are
// scanned first, and libcbor sees only an item whose every length fits.
#include <cbor.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace authd::webauthn {

// Owns one decoded item (cbor_decref on destruction).
class CborItem {
 public:
  CborItem() = default;
  explicit CborItem(cbor_item_t* item) : item_(item) {}
  ~CborItem();
  CborItem(CborItem&& other) noexcept : item_(other.item_) { other.item_ = nullptr; }
  CborItem& operator=(CborItem&& other) noexcept;
  CborItem(const CborItem&) = delete;
  CborItem& operator=(const CborItem&) = delete;

  const cbor_item_t* get() const noexcept { return item_; }
  explicit operator bool() const noexcept { return item_ != nullptr; }

 private:
  cbor_item_t* item_ = nullptr;
};

struct CborPrefix {
  CborItem item;
  std::size_t length = 0;  // bytes the item took
};

// The item at the start of `bytes` and its length; nullopt when it is not
// well-formed, uses an indefinite length or a tag, or nests deeper than 16
// levels.
std::optional<CborPrefix> load_cbor_prefix(std::string_view bytes);

// The same, for input that must be exactly one item.
std::optional<CborItem> load_cbor(std::string_view bytes);

// A map's value for a text key, or for an integer key (COSE); null when
// absent. Keys are compared exactly.
const cbor_item_t* map_text_member(const cbor_item_t* map, std::string_view key);
const cbor_item_t* map_int_member(const cbor_item_t* map, std::int64_t key);

// An integer item as int64 (unsigned or negative), nullopt for any other
// item or one out of range.
std::optional<std::int64_t> cbor_int(const cbor_item_t* item);

// A byte string's or text string's bytes.
std::string cbor_bytes(const cbor_item_t* item);

}  // namespace authd::webauthn
