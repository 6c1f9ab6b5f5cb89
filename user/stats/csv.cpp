#include "stats/csv.hpp"

namespace ow::stats {

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

Result<std::vector<std::string>> csv_split(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    std::string f;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return app_error("unterminated quoted field");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            f.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        f.push_back(line[i++]);
      }
      if (i < line.size() && line[i] != ',') return app_error("text after a closing quote");
    } else {
      size_t e = line.find(',', i);
      if (e == std::string_view::npos) e = line.size();
      f.assign(line.substr(i, e - i));
      if (f.find('"') != std::string::npos) return app_error("quote inside an unquoted field");
      i = e;
    }
    out.push_back(std::move(f));
    if (i >= line.size()) break;
    ++i;  // the comma; a trailing comma yields a final empty field
    if (i == line.size()) {
      out.emplace_back();
      break;
    }
  }
  return out;
}

}  // namespace ow::stats
