// Bytes from the kernel and the filesystem (process names, cgroup paths, file
// contents) are data, not UTF-8: the kernel cuts `comm` at 15 bytes in the
// middle of a character, and a cgroup name may hold any byte but '/' and '\n'.
// Everything that writes them as text goes through these helpers, so no
// invalid sequence can make a JSON writer throw.
#pragma once
#include <cstring>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace ow {

// A fixed-size char field of a kernel or wire record (comm, a map's or a
// directory's name): its bytes up to the first NUL, all N when it has none.
template <size_t N>
std::string_view field_bytes(const char (&c)[N]) {
  return {c, strnlen(c, N)};
}

// True when s is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s);
// Length of the well-formed UTF-8 sequence at s[i] (i < s.size()), 0 when
// there is none (the same rules).
size_t utf8_seq_len(std::string_view s, size_t i);

// s with every byte that is not part of a well-formed UTF-8 sequence, every
// C0 control character and DEL, and both bytes of every C1 control character
// (U+0080..U+009F as UTF-8), so no escape sequence reaches a terminal,
// written as the four characters \xNN; other text, backslashes included, is
// unchanged.
// For display: the result names the same cgroup an operator sees in `ls -b`.
std::string printable(std::string_view s);
// A bad value quoted in a one-line error: printable(), cut to about max bytes
// with "...(N bytes)" when longer, so a 50 MB value gives a short line.
std::string excerpt(std::string_view s, size_t max = 48);

// Cutting text to a screen width. A character is a well-formed UTF-8 sequence
// or one byte outside any (each taken as one column), so a cut never splits a
// sequence into bytes that are no longer UTF-8.
size_t text_columns(std::string_view s);
// The longest prefix (suffix) of s that is at most n characters.
std::string_view text_head(std::string_view s, size_t n);
std::string_view text_tail(std::string_view s, size_t n);

// One JSON document on one line (no trailing newline). Strings that are still
// not UTF-8 are written with U+FFFD instead of throwing: the last line of
// defence, the fields that carry kernel bytes use printable() first.
std::string json_line(const nlohmann::json& j);
std::string json_line(const nlohmann::ordered_json& j);

// Lossless, reversible encoding for the agent's own state files (journal,
// intent), where a path must come back byte for byte: valid UTF-8 is kept as
// is; anything else becomes "hex:" followed by the bytes in hex. A valid
// string that itself starts with "hex:" is hex-encoded too, so decoding is
// unambiguous.
std::string encode_bytes(std::string_view s);
// Inverse of encode_bytes; false for a malformed "hex:" payload.
bool decode_bytes(std::string_view enc, std::string& out);

}  // namespace ow
