#include "util/text.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace ow {

// The rules of Unicode 15, table 3-7.
size_t utf8_seq_len(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return i + k < s.size() && b(k) >= lo && b(k) <= hi;
  };
  unsigned c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

namespace {

// Where the character after s[i] starts: past a well-formed sequence, or past
// one stray byte.
size_t next_char(std::string_view s, size_t i) { return i + std::max<size_t>(utf8_seq_len(s, i), 1); }

constexpr char kHex[] = "0123456789abcdef";

int unhex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_seq_len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

size_t text_columns(std::string_view s) {
  size_t cols = 0;
  for (size_t i = 0; i < s.size(); ++cols) i = next_char(s, i);
  return cols;
}

std::string_view text_head(std::string_view s, size_t n) {
  size_t i = 0;
  for (size_t cols = 0; i < s.size() && cols < n; ++cols) i = next_char(s, i);
  return s.substr(0, i);
}

std::string_view text_tail(std::string_view s, size_t n) {
  size_t cols = text_columns(s);
  return cols <= n ? s : s.substr(text_head(s, cols - n).size());
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_seq_len(s, i);
    auto b0 = static_cast<unsigned char>(s[i]);
    // C1 controls (U+0080..U+009F, C2 80..C2 9F in UTF-8): CSI (U+009B) and
    // OSC (U+009D) start escape sequences on terminals that read them.
    bool c1 = n == 2 && b0 == 0xc2 && static_cast<unsigned char>(s[i + 1]) <= 0x9f;
    if (n == 0 || b0 < 0x20 || b0 == 0x7f || c1) {
      for (size_t k = 0; k < (c1 ? 2 : 1); ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
      i += c1 ? 2 : 1;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string json_line(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
std::string json_line(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string encode_bytes(std::string_view s) {
  if (valid_utf8(s) && s.rfind("hex:", 0) != 0) return std::string(s);
  std::string out = "hex:";
  for (unsigned char c : s) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool decode_bytes(std::string_view enc, std::string& out) {
  if (enc.rfind("hex:", 0) != 0) {
    out.assign(enc);
    return true;
  }
  enc.remove_prefix(4);
  if (enc.size() % 2) return false;
  std::string r;
  r.reserve(enc.size() / 2);
  for (size_t i = 0; i < enc.size(); i += 2) {
    int hi = unhex(enc[i]), lo = unhex(enc[i + 1]);
    if (hi < 0 || lo < 0) return false;
    r += static_cast<char>(hi << 4 | lo);
  }
  out = std::move(r);
  return true;
}

std::string excerpt(std::string_view s, size_t max) {
  if (s.size() <= max) return printable(s);
  return printable(s.substr(0, max)) + "...(" + std::to_string(s.size()) + " bytes)";
}

}  // namespace ow
