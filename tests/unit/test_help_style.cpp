// Every --help of the real binary in one style: the commands are found by
// walking `oomwatch --help` and each command's own --help (no list kept
// here), and each page is held to what docs/cli.md says of the style:
//   - an option's first column is its names, then its type (SIZE, DUR, P,
//     FILE, ...) or the set of values it accepts, {a,b,c}; nothing else (no "=X"
//     default, no REQUIRED, Needs: or Excludes: glued to the text);
//   - defaults, required, needs, excludes and ranges on one line of facts
//     under the description, and "default" nowhere else;
//   - each set is what the parser accepts: every value passes, any other is
//     a one-line error (exit 2) naming the flag and the values;
//   - every `--flag a|b|c` the docs show is a set in --help holding them;
//   - the global flags work before or after the command, and each command's
//     --help names them;
//   - no line ends in blanks.
// Only --help and parse errors run: no root, no cgroups, no BPF.
#include <catch2/catch.hpp>

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "helpers.hpp"
#include "test_store_tmp.hpp"
#include "util/fs.hpp"

namespace {

// One option's entry: the first column, and the description's lines.
struct Entry {
  std::string head;
  std::vector<std::string> desc;
  bool positional = false;
};

struct Page {
  std::vector<std::string> path;  // the command words, {} for the top level
  std::string text;
  std::vector<Entry> entries;
  std::vector<std::string> subcommands;
};

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a);
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out.empty() ? "(top level)" : out;
}

owtest::CmdResult oomwatch(const std::vector<std::string>& path, const std::vector<std::string>& args) {
  std::vector<std::string> argv{owtest::oomwatch_bin()};
  argv.insert(argv.end(), path.begin(), path.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return owtest::run(argv, 30);
}

// The sections CLI11 prints: a heading at column 0 ending in ':', then entries
// at column 2 whose description continues on lines indented further.
Page parse_page(const std::vector<std::string>& path, const std::string& text) {
  Page p{path, text, {}, {}};
  std::string section;
  for (const auto& line : split_lines(text)) {
    if (line.empty()) {
      section.clear();
      continue;
    }
    if (line[0] != ' ') {
      section = line.back() == ':' && line.find(' ') == std::string::npos ? line : "";
      continue;
    }
    bool starts_entry = line.size() > 2 && line.compare(0, 2, "  ") == 0 && line[2] != ' ';
    if (section == "Subcommands:") {
      if (starts_entry) p.subcommands.push_back(trim(line).substr(0, trim(line).find(' ')));
    } else if (section == "Options:" || section == "Positionals:") {
      if (starts_entry) {
        Entry e;
        e.positional = section == "Positionals:";
        size_t gap = line.find("  ", 2);
        e.head = line.substr(2, gap == std::string::npos ? std::string::npos : gap - 2);
        if (gap != std::string::npos && !trim(line.substr(gap)).empty()) e.desc.push_back(trim(line.substr(gap)));
        p.entries.push_back(e);
      } else if (!p.entries.empty()) {
        p.entries.back().desc.push_back(trim(line));
      }
    }
  }
  return p;
}

// Every page, from the top level down through each listed subcommand.
void walk(const std::vector<std::string>& path, std::vector<Page>& pages) {
  REQUIRE(path.size() < 5);  // a loop in the listing would never end
  auto r = oomwatch(path, {"--help"});
  INFO(joined(path) << ":\n" << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  pages.push_back(parse_page(path, r.out));
  auto subs = pages.back().subcommands;
  for (const auto& s : subs) {
    auto sub = path;
    sub.push_back(s);
    walk(sub, pages);
  }
}

const std::vector<Page>& all_pages() {
  static std::vector<Page> pages = [] {
    std::vector<Page> ps;
    walk({}, ps);
    return ps;
  }();
  return pages;
}

// The option's long name, and its set of values ({} when it has none).
std::string flag_of(const Entry& e) {
  std::string h = e.head.substr(0, e.head.find(' '));
  size_t comma = h.find(',');
  return comma == std::string::npos ? h : h.substr(comma + 1);
}

std::vector<std::string> set_of(const Entry& e) {
  std::vector<std::string> out;
  size_t open = e.head.find(" {");
  if (open == std::string::npos) return out;
  size_t close = e.head.find('}', open);
  std::stringstream in(e.head.substr(open + 2, close - open - 2));
  for (std::string v; std::getline(in, v, ',');) out.push_back(v);
  return out;
}

// A line of facts: what CLI11 knows of the option beyond its description.
bool is_facts(const std::string& line) {
  static const std::regex facts(R"(^(default: .+|required|needs: .+|excludes: .+|range: .+)$)");
  return std::regex_match(line, facts);
}

bool doc_file(const std::string& name) { return name.size() > 3 && name.substr(name.size() - 3) == ".md"; }

}  // namespace

TEST_CASE("help: every command is reached from the top-level listing", "[help][cli]") {
  const auto& pages = all_pages();
  REQUIRE(pages.size() > 1);
  std::set<std::string> names;
  for (const auto& p : pages) names.insert(joined(p.path));
  CHECK(names.size() == pages.size());
  // The walk found commands the man page and the docs know of.
  for (const char* c : {"check", "run", "stats", "top", "trace", "recommend"}) CHECK(names.count(c) == 1);
}

TEST_CASE("help: lines end cleanly, options read name, type or values, nothing glued", "[help][cli]") {
  static const std::regex option_head(
      R"(^(-[a-zA-Z],)?--[a-z][a-z0-9-]*( ([A-Z]+(:[A-Z]+)?|\{[a-z0-9_.-]+(,[a-z0-9_.-]+)*\})( \.\.\.| x [0-9]+)?)?$)");
  static const std::regex positional_head(R"(^[a-z][a-z0-9_-]*( [A-Z]+( \.\.\.)?)?$)");
  static const std::regex generic_type(R"( (TEXT|INT|UINT)( |$))");
  for (const auto& p : all_pages()) {
    INFO(joined(p.path) << ":\n" << p.text);
    CHECK(!p.text.empty());
    CHECK(p.text.back() == '\n');
    for (const auto& line : split_lines(p.text)) {
      INFO("line: [" << line << "]");
      CHECK((line.empty() || (line.back() != ' ' && line.back() != '\t')));
      CHECK(line.find('\t') == std::string::npos);
      CHECK(line.find('\r') == std::string::npos);
      // CLI11's own labels, which run into the text when the column is full.
      for (const char* label : {"Excludes:", "Needs:", "REQUIRED", "Env:"})
        CHECK(line.find(label) == std::string::npos);
    }
    CHECK(!p.entries.empty());
    for (const auto& e : p.entries) {
      INFO("entry: [" << e.head << "]");
      CHECK(std::regex_match(e.head, e.positional ? positional_head : option_head));
      // Named as the docs' synopses name it (SIZE, DUR, P, ...), not CLI11's generic TEXT/INT/UINT.
      CHECK(!std::regex_search(e.head, generic_type));
      CHECK(!e.desc.empty());
      // Facts come once, last, under the description.
      for (size_t i = 0; i < e.desc.size(); ++i) {
        INFO("desc line: [" << e.desc[i] << "]");
        if (is_facts(e.desc[i])) CHECK((i == e.desc.size() - 1 && i > 0));
      }
    }
  }
}

TEST_CASE("help: defaults are written one way, on the facts line", "[help][cli]") {
  static const std::regex word(R"(\bdefault\b)", std::regex::icase);
  int defaults = 0;
  for (const auto& p : all_pages()) {
    INFO(joined(p.path));
    for (const auto& line : split_lines(p.text)) {
      std::string t = trim(line);
      auto n = std::distance(std::sregex_iterator(t.begin(), t.end(), word), std::sregex_iterator());
      if (n == 0) continue;
      INFO("line: [" << line << "]");
      CHECK(n == 1);
      CHECK(t.rfind("default: ", 0) == 0);
      CHECK(is_facts(t));
      ++defaults;
    }
  }
  CHECK(defaults > 10);  // the form is in use, not merely absent
}

TEST_CASE("help: each set of values is what the parser accepts", "[help][cli]") {
  int sets = 0;
  for (const auto& p : all_pages()) {
    for (const auto& e : p.entries) {
      auto values = set_of(e);
      if (values.empty()) continue;
      ++sets;
      std::string flag = flag_of(e);
      INFO(joined(p.path) << " " << flag);
      for (const auto& v : values) {
        auto r = oomwatch(p.path, {flag, v, "--help"});  // parsed and validated, then help: nothing runs
        INFO(v << ": " << r.err);
        CHECK(r.exit_code == 0);
      }
      auto bad = oomwatch(p.path, {flag, "owtest-no-such-value", "--help"});
      INFO(bad.err);
      CHECK(bad.exit_code == 2);
      CHECK(bad.out.empty());
      auto lines = split_lines(bad.err);
      REQUIRE(!lines.empty());
      CHECK(lines.size() <= 2);  // the error, and at most a HINT line
      CHECK(lines[0].rfind("oomwatch: " + flag + ": ", 0) == 0);
      CHECK(lines[0].find("owtest-no-such-value") != std::string::npos);
      for (const auto& v : values) CHECK(lines[0].find(v) != std::string::npos);
    }
  }
  CHECK(sets >= 8);
}

TEST_CASE("help: every value list the docs show is a set in --help", "[help][cli]") {
  // `--flag a|b|c` (in tables `a\|b\|c`): lowercase words only, so FILE|none
  // and ADDR:PORT|none, which take any path, are not value lists.
  static const std::regex listed(R"(--([a-z][a-z0-9-]*)[ =]([a-z][a-z0-9_-]*((\\?\|)[a-z][a-z0-9_-]*)+))");
  std::map<std::string, std::set<std::string>> docs;  // "--flag a|b" -> where
  std::vector<std::string> files{owtest::repo_file("README.md")};
  std::string dir = owtest::repo_file("docs");
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* ent = ::readdir(d))
      if (doc_file(ent->d_name)) files.push_back(dir + "/" + ent->d_name);
    ::closedir(d);
  }
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (auto it = std::sregex_iterator(text.begin(), text.end(), listed); it != std::sregex_iterator(); ++it)
      docs["--" + (*it)[1].str() + " " + std::regex_replace((*it)[2].str(), std::regex(R"(\\)"), "")].insert(f);
  }
  REQUIRE(docs.size() >= 5);
  for (const auto& [shown, where] : docs) {
    std::string flag = shown.substr(0, shown.find(' '));
    std::set<std::string> want;
    std::stringstream in(shown.substr(shown.find(' ') + 1));
    for (std::string v; std::getline(in, v, '|');) want.insert(v);
    INFO(shown << " (in " << *where.begin() << ")");
    int found = 0, holding = 0;
    for (const auto& p : all_pages())
      for (const auto& e : p.entries) {
        if (flag_of(e) != flag) continue;
        ++found;
        auto values = set_of(e);
        INFO(joined(p.path) << ": [" << e.head << "]");
        CHECK(!values.empty());  // the flag lists its values wherever it appears
        std::set<std::string> have(values.begin(), values.end());
        if (std::includes(have.begin(), have.end(), want.begin(), want.end())) ++holding;
      }
    CHECK(found > 0);
    CHECK(holding > 0);
  }
}

TEST_CASE("help: global flags work before or after the command, and each command names them", "[help][cli]") {
  const auto& pages = all_pages();
  const Page& top = pages.front();
  REQUIRE(top.path.empty());
  std::vector<const Entry*> globals;
  for (const auto& e : top.entries)
    if (flag_of(e) != "--help") globals.push_back(&e);
  REQUIRE(!globals.empty());
  for (const auto& p : pages) {
    if (p.path.empty()) continue;
    INFO(joined(p.path) << ":\n" << p.text);
    bool footer = false;
    for (const auto& line : split_lines(p.text))
      if (line.find("before or after the command") != std::string::npos) {
        footer = true;
        for (const auto* g : globals) CHECK(line.find(flag_of(*g)) != std::string::npos);
      }
    CHECK(footer);
    for (const auto* g : globals) {
      auto values = set_of(*g);
      if (values.empty()) continue;  // a flag without a value: --version prints and exits
      auto ok = oomwatch(p.path, {flag_of(*g), values.front(), "--help"});
      INFO(ok.err);
      CHECK(ok.exit_code == 0);
      // Taken as the global flag (its check runs), not refused as unexpected.
      auto bad = oomwatch(p.path, {flag_of(*g), "owtest-no-such-value", "--help"});
      INFO(bad.err);
      CHECK(bad.exit_code == 2);
      CHECK(bad.err.rfind("oomwatch: " + flag_of(*g) + ": ", 0) == 0);
    }
  }
}

TEST_CASE("help: --log-level after the command runs the command", "[help][cli]") {
  owtest::TempDir d;
  std::string file = d / "s.jsonl";
  REQUIRE(ow::append_line_fsync(file, "{\"ts\":1763856000,\"cgroup\":\"/a\",\"usage_bytes\":3}").ok());
  auto before = owtest::run({owtest::oomwatch_bin(), "--log-level", "warn", "stats", "--input", file});
  auto after = owtest::run({owtest::oomwatch_bin(), "stats", "--input", file, "--log-level", "warn"});
  INFO(before.err << after.err);
  CHECK(before.exit_code == 0);
  CHECK(after.exit_code == 0);
  CHECK(after.out == before.out);
  CHECK(after.out.find("/a") != std::string::npos);
  // Before and after: the last one counts (not an error).
  auto twice = owtest::run({owtest::oomwatch_bin(), "--log-level", "off", "stats", "--input", file, "--log-level", "warn"});
  INFO(twice.err);
  CHECK(twice.exit_code == 0);
  CHECK(twice.out == before.out);
  // A value the flag does not take is still its error, after the command too.
  auto bad = owtest::run({owtest::oomwatch_bin(), "stats", "--input", file, "--log-level", "loud"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--log-level: 'loud'") != std::string::npos);
}
