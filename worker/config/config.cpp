#include "config/config.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "util/ascii.h"

namespace authd {
namespace {

// Thrown inside this file only, so each check is one line at its call site;
// parse_config turns it into the ConfigError it returns.
struct Invalid {
  std::string message;
};

[[noreturn]] void fail(std::string_view name, std::string_view problem) {
  throw Invalid{std::string(name) + ": " + std::string(problem)};
}

// A value shown back in a message: quoted, on one line whatever it holds, and
// short. Never used for secrets.
std::string quoted(std::string_view value) {
  constexpr std::size_t kShown = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size() && i < kShown; ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += static_cast<char>(byte);
    } else if (byte < 0x20 || byte >= 0x7F) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (value.size() > kShown) out += "...";
  out += '"';
  return out;
}

std::string got(std::string_view value) {
  return " (got " + quoted(value) + ")";
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string ascii_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool has_control_characters(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  });
}

// Strict decimal: digits only, no sign, no white space, no overflow.
std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// LDH host name or dotted IPv4 address: what nginx, libfcgi and libcurl all take.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = host.find('.', start);
    const std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!letter && !is_digit(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool is_bracketed_ipv6(std::string_view host) {
  if (host.size() < 3 || host.front() != '[' || host.back() != ']') return false;
  const std::string address(host.substr(1, host.size() - 2));
  in6_addr parsed{};
  return inet_pton(AF_INET6, address.c_str(), &parsed) == 1;
}

bool is_port(std::string_view text) {
  const auto port = parse_decimal(text);
  return port && *port >= 1 && *port <= 65535;
}

// "host[:port]" where host is a name, IPv4 or [IPv6]; an empty port is not a port.
bool is_authority(std::string_view authority) {
  std::string_view host = authority;
  const std::size_t bracket = authority.rfind(']');
  const std::size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    if (!is_port(authority.substr(colon + 1))) return false;
    host = authority.substr(0, colon);
  }
  return is_host_name(host) || is_bracketed_ipv6(host);
}

// A sender address as an operator writes it: a dot-atom local part and a host
// name (a single label such as "localhost" is fine for a test relay). Kept
// here rather than borrowed from auth/, which sits above config.
bool is_sender_address(std::string_view address) {
  const std::size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  const std::string_view local = address.substr(0, at);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  constexpr std::string_view kAtextSpecials = "!#$%&'*+-/=?^_`{|}~.";
  const bool local_ok = std::all_of(local.begin(), local.end(), [&](char c) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return letter || is_digit(c) || kAtextSpecials.find(c) != std::string_view::npos;
  });
  return local_ok && is_host_name(address.substr(at + 1));
}

class Environment {
 public:
  explicit Environment(const EnvLookup& lookup) : lookup_(lookup) {}

  // Empty counts as unset.
  std::optional<std::string> get(const char* name) const {
    auto value = lookup_(name);
    if (value && value->empty()) return std::nullopt;
    return value;
  }

  bool has(const char* name) const { return get(name).has_value(); }

  std::string text(const char* name, std::string fallback) const {
    return get(name).value_or(std::move(fallback));
  }

  // Free text that ends up in headers, tokens or logs: one line only.
  std::string line(const char* name, std::string fallback) const {
    auto value = get(name);
    if (!value) return fallback;
    if (has_control_characters(*value)) fail(name, "must not contain control characters");
    return *value;
  }

  std::uint64_t integer(const char* name, std::uint64_t fallback, std::uint64_t lowest,
                        std::uint64_t highest) const {
    const auto value = get(name);
    if (!value) return fallback;
    const auto parsed = parse_decimal(*value);
    if (!parsed || *parsed < lowest || *parsed > highest) {
      fail(name, "must be an integer from " + std::to_string(lowest) + " to " +
                     std::to_string(highest) + got(*value));
    }
    return *parsed;
  }

  bool boolean(const char* name, bool fallback) const {
    const auto value = get(name);
    if (!value) return fallback;
    const std::string lowered = ascii_lower(*value);
    if (lowered == "true" || lowered == "1" || lowered == "yes" || lowered == "on") return true;
    if (lowered == "false" || lowered == "0" || lowered == "no" || lowered == "off") return false;
    fail(name, "must be true or false (or 1/0, yes/no, on/off)" + got(*value));
  }

 private:
  const EnvLookup& lookup_;
};

template <typename Narrow>
Narrow narrow(std::uint64_t value) {
  return static_cast<Narrow>(value);  // the caller's range check keeps it in bounds
}

std::string parse_socket_group(const Environment& env) {
  constexpr const char* kName = "FCGI_SOCKET_GROUP";
  const auto value = env.get(kName);
  if (!value) return {};
  const bool ok = value->size() <= 32 && std::all_of(value->begin(), value->end(), [](char c) {
                    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           c == '_' || c == '-' || c == '.';
                  });
  if (!ok) fail(kName, "must be a group name or number" + got(*value));
  return *value;
}

LogLevel parse_log_level(const Environment& env) {
  const auto value = env.get("LOGLEVEL");
  if (!value) return LogLevel::info;
  const std::string lowered = ascii_lower(*value);
  // Python's logging names, which the service this replaces used.
  if (lowered == "debug") return LogLevel::debug;
  if (lowered == "info") return LogLevel::info;
  if (lowered == "warning" || lowered == "warn") return LogLevel::warning;
  if (lowered == "error" || lowered == "critical") return LogLevel::error;
  fail("LOGLEVEL", "must be DEBUG, INFO, WARNING or ERROR" + got(*value));
}

// libfcgi's FCGX_OpenSocket forms: an absolute unix path, "host:port" or ":port".
std::string parse_listen(const Environment& env, const char* kName, const std::string& fallback) {
  const auto value = env.get(kName);
  if (!value) return fallback;
  if (value->front() == '/') {
    constexpr std::size_t kMaxPath = sizeof(sockaddr_un{}.sun_path) - 1;
    if (value->size() > kMaxPath) {
      fail(kName, "a unix socket path must be at most " + std::to_string(kMaxPath) +
                      " bytes (got " + std::to_string(value->size()) + ")");
    }
    if (has_control_characters(*value)) fail(kName, "must not contain control characters");
    return *value;
  }
  const std::size_t colon = value->rfind(':');
  const bool valid = colon != std::string::npos &&
                     is_port(std::string_view(*value).substr(colon + 1)) &&
                     (colon == 0 || is_host_name(std::string_view(*value).substr(0, colon)));
  if (!valid) {
    fail(kName, "must be an absolute unix socket path, host:port or :port (host: a name or IPv4)" +
                    got(*value));
  }
  return *value;
}

std::string parse_jwt_alg(const Environment& env) {
  const auto value = env.get("JWT_ALG");
  if (!value) return "HS256";
  const std::string lowered = ascii_lower(*value);
  if (lowered == "hs256") return "HS256";
  if (lowered == "es256") return "ES256";
  if (lowered == "rs256" || lowered == "rs384" || lowered == "rs512") {
    fail("JWT_ALG", "RSA PKCS#1 v1.5 signatures (" + ascii_upper(lowered) +
                        ") are not offered: ASVS 5.0 disallows them; use HS256 or ES256");
  }
  fail("JWT_ALG", "must be HS256 or ES256" + got(*value));
}

// A secret's message says only its length.
std::string parse_secret(const Environment& env, const char* name, std::size_t minimum_bytes) {
  const auto value = env.get(name);
  if (!value) return {};
  if (value->size() < minimum_bytes) {
    fail(name, "must be at least " + std::to_string(minimum_bytes) + " bytes (got " +
                   std::to_string(value->size()) + ")");
  }
  return *value;
}

// 64 hex digits, or base64 in any of its four common spellings. libsodium's
// decoders are the constant-time ones, which suits key material.
std::array<unsigned char, kMfaKeyBytes> decode_mfa_key(const std::string& encoded) {
  constexpr const char* kName = "MFA_ENCRYPTION_KEY";
  std::vector<unsigned char> decoded(encoded.size() + 1);
  std::size_t decoded_length = 0;
  bool readable = false;

  const char* end = nullptr;
  if (encoded.size() == 2 * kMfaKeyBytes &&
      sodium_hex2bin(decoded.data(), decoded.size(), encoded.data(), encoded.size(), nullptr,
                     &decoded_length, &end) == 0 &&
      end == encoded.data() + encoded.size()) {
    readable = true;
  }
  for (const int variant :
       {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
        sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
    if (readable) break;
    if (sodium_base642bin(decoded.data(), decoded.size(), encoded.data(), encoded.size(), nullptr,
                          &decoded_length, &end, variant) == 0 &&
        end == encoded.data() + encoded.size()) {
      readable = true;
    }
  }

  std::array<unsigned char, kMfaKeyBytes> key{};
  const bool right_size = readable && decoded_length == kMfaKeyBytes;
  if (right_size) std::copy_n(decoded.begin(), kMfaKeyBytes, key.begin());
  sodium_memzero(decoded.data(), decoded.size());
  if (!right_size) {
    const std::string shape = readable ? "decoding to " + std::to_string(decoded_length) + " bytes"
                                       : "neither hex nor base64";
    fail(kName, "must be 32 bytes given as 64 hex digits or as base64 (got " +
                    std::to_string(encoded.size()) + " characters, " + shape +
                    "; e.g. openssl rand -base64 32)");
  }
  return key;
}

// One "address[/prefix]" entry → "address/prefix" in inet_ntop's spelling.
std::string normalise_cidr(const char* name, std::string_view entry) {
  const std::size_t slash = entry.find('/');
  const std::string address(entry.substr(0, slash));
  unsigned char bytes[16] = {};
  int family = AF_INET;
  std::size_t address_bytes = 4;
  if (inet_pton(AF_INET, address.c_str(), bytes) != 1) {
    family = AF_INET6;
    address_bytes = 16;
    if (inet_pton(AF_INET6, address.c_str(), bytes) != 1) {
      fail(name, "must be a comma-separated list of IPv4 or IPv6 addresses or CIDRs; " +
                     quoted(entry) + " is not one");
    }
  }
  const std::uint64_t max_prefix = address_bytes * 8;
  std::uint64_t prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const auto parsed = parse_decimal(entry.substr(slash + 1));
    if (!parsed || *parsed > max_prefix) {
      fail(name, quoted(entry) + " needs a prefix length from 0 to " + std::to_string(max_prefix));
    }
    prefix = *parsed;
  }

  char text[INET6_ADDRSTRLEN] = {};
  bool host_bits_set = false;
  for (std::size_t i = 0; i < address_bytes; ++i) {
    const std::uint64_t first_bit = i * 8;
    if (first_bit + 8 <= prefix) continue;
    const unsigned kept_bits = prefix > first_bit ? static_cast<unsigned>(prefix - first_bit) : 0;
    const auto mask = static_cast<unsigned char>(0xFF00u >> kept_bits);
    if ((bytes[i] & ~mask & 0xFF) != 0) host_bits_set = true;
    bytes[i] &= mask;
  }
  inet_ntop(family, bytes, text, sizeof text);
  const std::string network = std::string(text) + "/" + std::to_string(prefix);
  // nginx would quietly drop these bits; a typo in a trust list deserves a stop.
  if (host_bits_set) {
    fail(name, quoted(entry) + " has bits set beyond its /" + std::to_string(prefix) +
                   " prefix (did you mean " + network + "?)");
  }
  return network;
}

std::vector<std::string> parse_cidr_list(const Environment& env, const char* name,
                                         std::vector<std::string> fallback) {
  const auto value = env.get(name);
  if (!value) return fallback;
  std::vector<std::string> networks;
  std::size_t start = 0;
  while (start <= value->size()) {
    std::size_t end = value->find(',', start);
    if (end == std::string::npos) end = value->size();
    std::string_view entry = std::string_view(*value).substr(start, end - start);
    while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t'))
      entry.remove_prefix(1);
    while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t'))
      entry.remove_suffix(1);
    // A trailing comma or a doubled one says nothing; skip it.
    if (!entry.empty()) {
      std::string network = normalise_cidr(name, entry);
      if (std::find(networks.begin(), networks.end(), network) == networks.end()) {
        networks.push_back(std::move(network));
      }
    }
    start = end + 1;
  }
  return networks;
}

MailMode parse_mail_mode(const Environment& env) {
  const auto value = env.get("MAIL_MODE");
  if (!value) return MailMode::file;
  const std::string lowered = ascii_lower(*value);
  if (lowered == "file") return MailMode::file;
  if (lowered == "smtp") return MailMode::smtp;
  fail("MAIL_MODE", "must be file or smtp" + got(*value));
}

std::string parse_smtp_url(const Environment& env) {
  constexpr const char* kName = "SMTP_URL";
  const auto value = env.get(kName);
  if (!value) return {};
  // Credentials belong in SMTP_USER/SMTP_PASSWORD; a URL carrying them is not
  // echoed, since it holds a password.
  if (value->find('@') != std::string::npos) {
    fail(kName, "must not carry credentials; use SMTP_USER and SMTP_PASSWORD");
  }
  std::string_view rest = *value;
  const std::size_t scheme_end = rest.find("://");
  const std::string scheme =
      scheme_end == std::string_view::npos ? "" : ascii_lower(rest.substr(0, scheme_end));
  if (scheme == "smtp" || scheme == "smtps") {
    rest.remove_prefix(scheme_end + 3);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (is_authority(rest)) return scheme + "://" + std::string(rest);
  }
  fail(kName, "must be smtp://host[:port] (STARTTLS) or smtps://host[:port]" + got(*value));
}

struct MailFrom {
  std::string header;
  std::string address;
};

// "addr" or "Display Name <addr>", ASCII only: it goes verbatim into a
// header, so no line breaks and nothing that needs RFC 2047 encoding.
std::optional<MailFrom> parse_mail_from(const Environment& env) {
  constexpr const char* kName = "MAIL_FROM";
  const auto value = env.get(kName);
  if (!value) return std::nullopt;
  const std::string_view text = *value;
  std::string_view address = text;
  std::string_view display_name;
  if (!text.empty() && text.back() == '>') {
    const std::size_t open = text.rfind('<');
    if (open == std::string_view::npos) fail(kName, "has an unmatched '>'" + got(text));
    address = text.substr(open + 1, text.size() - open - 2);
    display_name = text.substr(0, open);
  }
  const bool name_ok = std::all_of(display_name.begin(), display_name.end(), [](char c) {
    return c >= 0x20 && c <= 0x7E && c != '"' && c != '<' && c != '>' && c != '\\';
  });
  if (!name_ok || !is_sender_address(address)) {
    fail(kName, "must be an email address or \"Display Name <address>\" in ASCII, without quotes" +
                    got(text));
  }
  return MailFrom{std::string(text), std::string(address)};
}

std::string parse_public_base_url(const Environment& env, unsigned https_port) {
  constexpr const char* kName = "PUBLIC_BASE_URL";
  const auto value = env.get(kName);
  if (!value) return "https://localhost:" + std::to_string(https_port);
  std::string_view rest = *value;
  const std::size_t scheme_end = rest.find("://");
  const std::string scheme =
      scheme_end == std::string_view::npos ? "" : ascii_lower(rest.substr(0, scheme_end));
  bool valid = false;
  std::string_view path;
  if (scheme == "http" || scheme == "https") {
    rest.remove_prefix(scheme_end + 3);
    const std::size_t path_start = rest.find('/');
    const std::string_view authority = rest.substr(0, path_start);
    path = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
    // Links put "#token=..." after this; a query or fragment of its own, or
    // anything a mail client would cut the link at, would break them.
    const bool path_ok = std::all_of(path.begin(), path.end(), [](char c) {
      return c > 0x20 && c < 0x7F && c != '?' && c != '#' && c != '"' && c != '<' && c != '>';
    });
    valid = is_authority(authority) && path_ok;
    rest = authority;
  }
  if (!valid) {
    fail(kName, "must be an http:// or https:// URL without query or fragment" + got(*value));
  }
  // The link line of a message must stay far below SMTP's 998-octet limit.
  if (value->size() > 512) fail(kName, "must be at most 512 bytes" + got(*value));
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  return scheme + "://" + std::string(rest) + std::string(path);
}

std::string parse_mfa_issuer(const Environment& env) {
  constexpr const char* kName = "MFA_ISSUER";
  const auto value = env.get(kName);
  if (!value) return "auth";
  // The otpauth label is "issuer:account": a colon would move the split.
  if (value->size() > 100 || value->find(':') != std::string::npos ||
      has_control_characters(*value)) {
    fail(kName, "must be at most 100 bytes without ':' or control characters" + got(*value));
  }
  return *value;
}

// A MYSQL_HOST entry's port: 1 to 65535, digits only.
std::optional<unsigned> port_number(std::string_view digits) {
  const auto value = parse_decimal(digits);
  if (!value || *value < 1 || *value > 65535) return std::nullopt;
  return static_cast<unsigned>(*value);
}

// An origin as browsers serialise it (RFC 6454): lower-case scheme and
// host, the port only when it is not the scheme's default, nothing after.
struct Origin {
  std::string scheme;
  std::string host;
  std::string text;
};

std::optional<Origin> parse_origin(std::string_view value) {
  const std::size_t scheme_end = value.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  Origin o;
  o.scheme = ascii_lower(value.substr(0, scheme_end));
  if (o.scheme != "http" && o.scheme != "https") return std::nullopt;
  std::string_view authority = value.substr(scheme_end + 3);
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  if (!is_authority(authority)) return std::nullopt;
  const std::size_t bracket = authority.rfind(']');
  const std::size_t colon = authority.rfind(':');
  std::string port;
  std::string_view host = authority;
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = std::to_string(*parse_decimal(authority.substr(colon + 1)));
  }
  o.host = ascii_lower(host);
  const bool default_port =
      (o.scheme == "https" && port == "443") || (o.scheme == "http" && port == "80");
  o.text = o.scheme + "://" + o.host + (port.empty() || default_port ? "" : ":" + port);
  return o;
}

// The RP id names a registrable domain, or localhost: never an IP address
// (WebAuthn L3 §5.1.3), never upper case (browsers compare it exactly).
bool is_rp_id(std::string_view id) {
  if (!is_host_name(id) || id.back() == '.') return false;
  const bool all_numeric =
      std::all_of(id.begin(), id.end(), [](char c) { return is_digit(c) || c == '.'; });
  return !all_numeric;
}

bool origin_within(const Origin& origin, std::string_view rp_id) {
  return origin.host == rp_id ||
         (origin.host.size() > rp_id.size() && origin.host.ends_with(rp_id) &&
          origin.host[origin.host.size() - rp_id.size() - 1] == '.');
}

void parse_webauthn(const Environment& env, Config& config) {
  // PUBLIC_BASE_URL was validated above: scheme://authority, then a path.
  const std::string_view url = config.public_base_url;
  const std::size_t path = url.find('/', url.find("://") + 3);
  const auto base_origin = parse_origin(url.substr(0, path));
  if (!base_origin) fail("PUBLIC_BASE_URL", "has no origin a browser could use" + got(url));
  const Origin& base = *base_origin;
  if (const auto id = env.get("WEBAUTHN_RP_ID")) {
    const std::string lowered = ascii_lower(*id);
    if (!is_rp_id(lowered)) {
      fail("WEBAUTHN_RP_ID",
           "must be a host name such as example.com or localhost (not an IP "
           "address)" +
               got(*id));
    }
    config.webauthn_rp_id = lowered;
  } else {
    config.webauthn_rp_id = base.host;
  }
  config.webauthn_rp_name = env.line("WEBAUTHN_RP_NAME", config.mfa_issuer);
  if (config.webauthn_rp_name.size() > 100) {
    fail("WEBAUTHN_RP_NAME", "must be at most 100 bytes" + got(config.webauthn_rp_name));
  }
  config.webauthn_origins.clear();
  const auto list = env.get("WEBAUTHN_ORIGINS");
  if (!list) {
    // The default is taken as it comes: a PUBLIC_BASE_URL on an address
    // browsers refuse WebAuthn on (http://127.0.0.1) must not stop a server
    // that never sees a passkey.
    config.webauthn_origins.push_back(base.text);
  }
  std::string_view rest = list ? std::string_view(*list) : std::string_view();
  while (list) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim_ows(rest.substr(0, comma));
    if (!item.empty()) {
      const auto origin = parse_origin(item);
      if (!origin) {
        fail("WEBAUTHN_ORIGINS",
             "each entry must be an origin, scheme://host[:port] with http or https" + got(item));
      }
      // Browsers offer WebAuthn over plain HTTP to localhost only.
      if (origin->scheme == "http" && origin->host != "localhost" &&
          !origin->host.ends_with(".localhost")) {
        fail("WEBAUTHN_ORIGINS", "plain http is a secure context for localhost only" + got(item));
      }
      // A browser never signs for an RP id its page's host is not within.
      if (!origin_within(*origin, config.webauthn_rp_id)) {
        fail("WEBAUTHN_ORIGINS", "every origin's host must be WEBAUTHN_RP_ID (\"" +
                                     config.webauthn_rp_id + "\") or below it" + got(item));
      }
      if (std::find(config.webauthn_origins.begin(), config.webauthn_origins.end(), origin->text) ==
          config.webauthn_origins.end()) {
        config.webauthn_origins.push_back(origin->text);
      }
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (config.webauthn_origins.empty()) fail("WEBAUTHN_ORIGINS", "must name at least one origin");
  config.max_passkeys_per_user = narrow<unsigned>(env.integer("MAX_PASSKEYS_PER_USER", 10, 1, 100));
}

void require(const Environment& env, const char* name, std::string_view why = "required") {
  if (!env.has(name)) fail(name, why);
}

}  // namespace

std::vector<DbHost> parse_db_hosts(std::string_view text, unsigned default_port) {
  std::vector<DbHost> hosts;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view entry = trim_ows(text.substr(0, comma));
    DbHost host;
    host.port = default_port;
    std::string_view name = entry;
    if (entry.starts_with('[')) {
      const auto close = entry.find(']');
      if (close == std::string_view::npos) return {};
      name = entry.substr(1, close - 1);
      const std::string_view rest = entry.substr(close + 1);
      if (!rest.empty()) {
        auto port = rest.starts_with(':') ? port_number(rest.substr(1)) : std::nullopt;
        if (!port) return {};
        host.port = *port;
      }
    } else if (const auto colon = entry.find(':'); colon != std::string_view::npos) {
      // One colon: host:port. More: a bare IPv6 address (no port).
      if (entry.find(':', colon + 1) == std::string_view::npos) {
        auto port = port_number(entry.substr(colon + 1));
        if (!port) return {};
        host.port = *port;
        name = entry.substr(0, colon);
      }
    }
    // A name or IPv4 address; with colons, an IPv6 address.
    const bool v6 = name.find(':') != std::string_view::npos;
    const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [v6](char c) {
      if (v6) return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    });
    if (!plain) return {};
    host.host = std::string(name);
    hosts.push_back(std::move(host));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return hosts;
}

std::string db_host_label(const DbHost& host) {
  const bool v6 = host.host.find(':') != std::string::npos;
  return (v6 ? "[" + host.host + "]" : host.host) + ":" + std::to_string(host.port);
}

namespace {

Config parse(const Environment& env, ConfigPurpose purpose, unsigned detected_cpus) {
  Config config;
  const bool serving = purpose == ConfigPurpose::serve;

  // Database.
  DbSettings& db = config.db;
  db.host = env.line("MYSQL_HOST", db.host);
  db.port = narrow<unsigned>(env.integer("MYSQL_PORT", db.port, 1, 65535));
  db.user = env.line("MYSQL_USER", "");
  db.password = env.text("MYSQL_PASSWORD", "");
  db.database = env.line("MYSQL_DB", "");
  db.migrate_user = env.line("MYSQL_MIGRATE_USER", db.user);
  db.migrate_password = env.text("MYSQL_MIGRATE_PASSWORD", db.password);
  db.connect_timeout_s =
      narrow<unsigned>(env.integer("MYSQL_CONNECT_TIMEOUT", db.connect_timeout_s, 1, 3600));
  db.read_timeout_s =
      narrow<unsigned>(env.integer("MYSQL_READ_TIMEOUT", db.read_timeout_s, 1, 3600));
  db.write_timeout_s =
      narrow<unsigned>(env.integer("MYSQL_WRITE_TIMEOUT", db.write_timeout_s, 1, 3600));
  db.ssl_ca = env.text("MYSQL_SSL_CA", "");
  db.ssl_required = env.boolean("MYSQL_SSL", db.ssl_required);
  if (parse_db_hosts(db.host, db.port).empty()) {
    fail("MYSQL_HOST", "must be host[:port] or a comma-separated list of them ([v6-address]:port)" +
                           got(db.host));
  }
  db.failback_s = narrow<unsigned>(env.integer("MYSQL_FAILBACK_S", db.failback_s, 1, 3600));
  if (purpose == ConfigPurpose::migrate) {
    if (db.migrate_user.empty()) fail("MYSQL_MIGRATE_USER", "required (or MYSQL_USER)");
  } else {
    require(env, "MYSQL_USER");
  }
  require(env, "MYSQL_DB");

  // Pool and process.
  const unsigned default_workers = std::clamp(detected_cpus, 1u, 256u);
  config.workers = narrow<unsigned>(env.integer("API_WORKERS", default_workers, 1, 256));
  config.listen = parse_listen(env, "FCGI_LISTEN", Config{}.listen);
  config.fast_workers =
      narrow<unsigned>(env.integer("API_FAST_WORKERS", config.fast_workers, 0, 256));
  config.fast_listen = parse_listen(env, "FCGI_FAST_LISTEN", fast_listen_for(config.listen));
  if (config.fast_workers > 0) {
    if (config.fast_listen.empty()) {
      fail("FCGI_FAST_LISTEN",
           "required: FCGI_LISTEN's port + 1 does not exist (or set API_FAST_WORKERS=0)");
    }
    if (config.fast_listen == config.listen)
      fail("FCGI_FAST_LISTEN", "must differ from FCGI_LISTEN");
  }
  config.listen_backlog = narrow<int>(env.integer("FCGI_BACKLOG", -1, 1, 65535));
  config.admission_budget_ms = narrow<std::int64_t>(
      env.integer("ADMISSION_BUDGET_MS", Config{}.admission_budget_ms, 10, 60000));
  // Unset, the short budget is its default or the long one, whichever is
  // smaller.
  config.admission_standing_budget_ms = narrow<std::int64_t>(
      env.integer("ADMISSION_STANDING_BUDGET_MS",
                  static_cast<std::uint64_t>(
                      std::min(Config{}.admission_standing_budget_ms, config.admission_budget_ms)),
                  1, 60000));
  if (config.admission_standing_budget_ms > config.admission_budget_ms) {
    fail("ADMISSION_STANDING_BUDGET_MS", "must not exceed ADMISSION_BUDGET_MS (" +
                                             std::to_string(config.admission_standing_budget_ms) +
                                             " > " + std::to_string(config.admission_budget_ms) +
                                             ")");
  }
  config.admission_max_clock_skew_ms = narrow<std::int64_t>(env.integer(
      "ADMISSION_MAX_CLOCK_SKEW_MS", Config{}.admission_max_clock_skew_ms, 100, 3600000));
  config.fcgi_socket_group = parse_socket_group(env);
  config.log_level = parse_log_level(env);
  config.http_port = narrow<unsigned>(env.integer("HTTP_PORT", config.http_port, 1, 65535));
  config.memory_budget_mib = env.integer("MEMORY_BUDGET_MIB", 0, 1, 16777216);

  // Tokens.
  config.secret_key = parse_secret(env, "SECRET_KEY", 32);
  if (serving && config.secret_key.empty()) {
    fail("SECRET_KEY", "required (at least 32 bytes; e.g. openssl rand -base64 48)");
  }
  config.jwt_alg = parse_jwt_alg(env);
  config.jwt_private_key_file = env.text("JWT_PRIVATE_KEY_FILE", "");
  if (serving && config.jwt_alg == "ES256" && config.jwt_private_key_file.empty()) {
    fail("JWT_PRIVATE_KEY_FILE", "required with JWT_ALG=ES256 (an EC P-256 private key in PEM)");
  }
  config.jwt_previous_public_key_file = env.text("JWT_PREVIOUS_PUBLIC_KEY_FILE", "");
  config.jwt_issuer = env.line("JWT_ISSUER", config.jwt_issuer);
  config.jwt_audience = env.line("JWT_AUDIENCE", config.jwt_audience);
  config.token_ttl_s = narrow<std::int64_t>(env.integer("DEFAULT_TOKEN_EXPIRY", 900, 1, 86400));
  config.refresh_reuse_grace_s =
      narrow<std::int64_t>(env.integer("REFRESH_REUSE_GRACE", 10, 0, 300));
  config.refresh_idle_ttl_s =
      narrow<std::int64_t>(env.integer("REFRESH_IDLE_TTL", 14 * 86400, 1, 365 * 86400));
  config.refresh_absolute_ttl_s =
      narrow<std::int64_t>(env.integer("REFRESH_ABSOLUTE_TTL", 30 * 86400, 1, 365 * 86400));
  if (config.refresh_idle_ttl_s > config.refresh_absolute_ttl_s) {
    fail("REFRESH_IDLE_TTL", "must not exceed REFRESH_ABSOLUTE_TTL (" +
                                 std::to_string(config.refresh_idle_ttl_s) + " > " +
                                 std::to_string(config.refresh_absolute_ttl_s) + ")");
  }
  config.max_sessions_per_user =
      narrow<unsigned>(env.integer("MAX_SESSIONS_PER_USER", 50, 1, 10000));
  config.reauth_max_age_s = narrow<std::int64_t>(env.integer("REAUTH_MAX_AGE", 300, 1, 86400));

  // Passwords.
  config.password_min_length = narrow<unsigned>(env.integer("PASSWORD_MIN_LENGTH", 8, 8, 256));
  config.password_min_strength = narrow<unsigned>(env.integer("PASSWORD_MIN_STRENGTH", 3, 0, 4));
  config.password_pepper = parse_secret(env, "PASSWORD_PEPPER", 32);
  config.argon2_memory_kib = env.integer("ARGON2_MEMORY_KIB", 19456, 8, 4194304);
  config.argon2_iterations = env.integer("ARGON2_ITERATIONS", 2, 1, 64);
  // The floor the README promises (finding 15 of issue 17). Test runs lower
  // the cost for speed, and must say so with a setting of their own.
  config.test_weak_argon2 = env.boolean("AUTHD_TEST_WEAK_ARGON2", false);
  if (!config.test_weak_argon2 &&
      !argon2_meets_floor(config.argon2_memory_kib, config.argon2_iterations)) {
    fail("ARGON2_MEMORY_KIB",
         std::to_string(config.argon2_memory_kib) +
             " KiB with ARGON2_ITERATIONS=" + std::to_string(config.argon2_iterations) +
             " is below OWASP's Argon2id floor (at least 47104 KiB with t=1, 19456 with t=2, "
             "12288 with t=3, 9216 with t=4 or 7168 with t=5)");
  }
  if (config.memory_budget_mib != 0 && config.memory_budget_mib * 1024 < config.argon2_memory_kib) {
    fail("MEMORY_BUDGET_MIB", std::to_string(config.memory_budget_mib) +
                                  " MiB cannot hold one Argon2id hash of ARGON2_MEMORY_KIB=" +
                                  std::to_string(config.argon2_memory_kib));
  }

  // Throttling.
  config.ip_rate_limit = narrow<unsigned>(env.integer("IP_RATE_LIMIT", 60, 0, 100000));
  config.trusted_proxies = parse_cidr_list(env, "TRUSTED_PROXIES", {});
  config.login_free_failures = narrow<unsigned>(env.integer("LOGIN_FREE_FAILURES", 5, 0, 1000));
  config.login_delay_base_s = narrow<std::int64_t>(env.integer("LOGIN_DELAY_BASE", 30, 1, 86400));
  config.login_delay_max_s = narrow<std::int64_t>(env.integer("LOGIN_DELAY_MAX", 900, 1, 86400));
  if (config.login_delay_base_s > config.login_delay_max_s) {
    fail("LOGIN_DELAY_BASE", "must not exceed LOGIN_DELAY_MAX (" +
                                 std::to_string(config.login_delay_base_s) + " > " +
                                 std::to_string(config.login_delay_max_s) + ")");
  }
  config.login_email_failures =
      narrow<unsigned>(env.integer("LOGIN_EMAIL_FAILURES", 20, 1, 100000));
  config.login_reveal_unknown_email = env.boolean("LOGIN_REVEAL_UNKNOWN_EMAIL", false);
  config.mail_cap_per_hour = narrow<unsigned>(env.integer("MAIL_CAP_PER_HOUR", 5, 1, 1000));
  config.mail_request_queue_max =
      narrow<unsigned>(env.integer("MAIL_REQUEST_QUEUE_MAX", 1000, 1, 1000000));

  // TLS comes before email: the default PUBLIC_BASE_URL names HTTPS_PORT.
  config.https_port = narrow<unsigned>(env.integer("HTTPS_PORT", config.https_port, 1, 65535));
  if (config.https_port == config.http_port) {
    fail("HTTPS_PORT",
         "must differ from HTTP_PORT (both " + std::to_string(config.http_port) + ")");
  }
  config.tls_cert = env.text("TLS_CERT", "");
  config.tls_key = env.text("TLS_KEY", "");
  if (!config.tls_cert.empty() && config.tls_key.empty()) {
    fail("TLS_KEY", "required when TLS_CERT is set");
  }
  if (config.tls_cert.empty() && !config.tls_key.empty()) {
    fail("TLS_CERT", "required when TLS_KEY is set");
  }
  config.http_redirect_to_https = env.boolean("HTTP_REDIRECT_TO_HTTPS", false);

  // Email.
  config.mail_mode = parse_mail_mode(env);
  config.smtp_url = parse_smtp_url(env);
  config.smtp_user = env.line("SMTP_USER", "");
  config.smtp_password = env.text("SMTP_PASSWORD", "");
  config.smtp_ca_file = env.text("SMTP_CA_FILE", "");
  config.smtp_allow_plaintext = env.boolean("SMTP_ALLOW_PLAINTEXT", false);
  config.mail_dir = env.text("MAIL_DIR", config.mail_dir);
  config.mail_poll_ms =
      narrow<unsigned>(env.integer("MAIL_POLL_MS", config.mail_poll_ms, 50, 60000));
  if (!config.smtp_user.empty() && config.smtp_password.empty()) {
    fail("SMTP_PASSWORD", "required when SMTP_USER is set");
  }
  if (config.smtp_user.empty() && !config.smtp_password.empty()) {
    fail("SMTP_USER", "required when SMTP_PASSWORD is set");
  }
  if (auto from = parse_mail_from(env)) {
    config.mail_from = std::move(from->header);
    config.mail_from_address = std::move(from->address);
  }
  config.public_base_url = parse_public_base_url(env, config.https_port);
  config.require_verified_email = env.boolean("REQUIRE_VERIFIED_EMAIL", false);
  config.verify_token_ttl_s =
      narrow<std::int64_t>(env.integer("VERIFY_TOKEN_TTL", 86400, 1, 30 * 86400));
  config.reset_token_ttl_s = narrow<std::int64_t>(env.integer("RESET_TOKEN_TTL", 1800, 1, 86400));
  if (config.mail_mode == MailMode::smtp) {
    constexpr std::string_view kWithSmtp = "required with MAIL_MODE=smtp";
    if (serving || purpose == ConfigPurpose::mailer) require(env, "MAIL_FROM", kWithSmtp);
    if (serving || purpose == ConfigPurpose::mailer) require(env, "PUBLIC_BASE_URL", kWithSmtp);
    if (purpose == ConfigPurpose::mailer) require(env, "SMTP_URL", kWithSmtp);
  }

  // Second factor.
  // Optional here: the server refuses to start without it only once an
  // account has a second factor (a database question, asked at startup).
  if (const auto key = env.get("MFA_ENCRYPTION_KEY")) {
    config.mfa_encryption_key = decode_mfa_key(*key);
  }
  config.mfa_issuer = parse_mfa_issuer(env);

  // Passkeys: after PUBLIC_BASE_URL and MFA_ISSUER, their defaults.
  parse_webauthn(env, config);

  // Metrics.
  config.metrics_allow = parse_cidr_list(env, "METRICS_ALLOW", config.metrics_allow);

  // Admin API.
  config.admin_allow = parse_cidr_list(env, "ADMIN_ALLOW", config.admin_allow);
  config.invite_token_ttl_s =
      narrow<std::int64_t>(env.integer("INVITE_TOKEN_TTL", 604800, 60, 30 * 86400));
  return config;
}

}  // namespace

bool argon2_meets_floor(std::uint64_t memory_kib, std::uint64_t iterations) {
  struct Pair {
    std::uint64_t memory_kib, iterations;
  };
  constexpr Pair kFloor[] = {{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5}};
  return std::any_of(std::begin(kFloor), std::end(kFloor), [&](const Pair& p) {
    return memory_kib >= p.memory_kib && iterations >= p.iterations;
  });
}

std::variant<Config, ConfigError> parse_config(const EnvLookup& env, ConfigPurpose purpose,
                                               unsigned detected_cpus) {
  try {
    return parse(Environment(env), purpose, detected_cpus);
  } catch (const Invalid& invalid) {
    return ConfigError{invalid.message};
  }
}

std::string fast_listen_for(const std::string& listen) {
  if (!listen.empty() && listen.front() == '/') {
    constexpr std::string_view kSuffix = ".sock";
    if (listen.size() > kSuffix.size() &&
        std::string_view(listen).substr(listen.size() - kSuffix.size()) == kSuffix) {
      return listen.substr(0, listen.size() - kSuffix.size()) + "-fast.sock";
    }
    return listen + "-fast";
  }
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "";
  unsigned port = 0;
  const std::string_view digits = std::string_view(listen).substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port >= 65535) {
    return "";
  }
  return listen.substr(0, colon + 1) + std::to_string(port + 1);
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

}  // namespace authd
