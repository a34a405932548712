#pragma once
// A QR code as an SVG image (libqrencode), so a browser shows the otpauth URI
// for an authenticator app to scan.
#include <string>
#include <string_view>

namespace authd::http {

// Throws std::runtime_error when the text does not fit a QR code.
std::string qr_svg(std::string_view text);

}  // namespace authd::http
