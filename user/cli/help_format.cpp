#include "cli/help_format.hpp"

#include <memory>
#include <set>

namespace ow::cli {
namespace {

// get_type_name() is the type, then ":" and each validator's description: a
// set ({a,b}) or a range ("UINT in [1 - 9]"). Any other piece belongs to the
// type itself (ADDR:PORT).
struct TypeParts {
  std::string type;                 // SIZE, DUR, ADDR:PORT, ... or {a,b,c}
  std::vector<std::string> others;  // other validators' descriptions
};

TypeParts type_parts(const CLI::Option* opt) {
  TypeParts p;
  std::string full = opt->get_type_name();
  size_t colon = full.find(':');
  p.type = full.substr(0, colon);
  while (colon != std::string::npos) {
    size_t next = full.find(':', colon + 1);
    std::string v = full.substr(colon + 1, next == std::string::npos ? std::string::npos : next - colon - 1);
    if (!v.empty() && v.front() == '{')
      p.type = v;  // a set of names replaces the bare type: it says more
    else if (v.find(" in [") != std::string::npos)
      p.others.push_back(v);
    else
      p.type += ":" + v;
    colon = next;
  }
  return p;
}

// CLI::Range describes itself as "TYPE in [MIN - MAX]": "range: MIN to MAX".
std::string validator_fact(const std::string& v) {
  size_t in = v.find(" in [");
  size_t dash = v.find(" - ", in == std::string::npos ? 0 : in);
  if (in != std::string::npos && dash != std::string::npos && v.back() == ']')
    return "range: " + v.substr(in + 5, dash - in - 5) + " to " + v.substr(dash + 3, v.size() - dash - 4);
  return v;
}

// get_needs() and get_excludes() return copies: bound to opts, they live for the call.
std::string names_of(const std::set<CLI::Option*>& opts) {
  std::string out;
  for (const auto* o : opts) out += (out.empty() ? "" : ", ") + o->get_name();
  return out;
}

}  // namespace

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
  if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
  std::string type = type_parts(opt).type;
  if (opt->get_type_size() == 0 || type.empty()) return "";  // a flag: nothing follows its name
  std::string out = " " + type;
  if (opt->get_expected_max() == CLI::detail::expected_max_vector_size)
    out += " ...";
  else if (opt->get_expected_min() > 1)
    out += " x " + std::to_string(opt->get_expected());
  return out;
}

std::string HelpFormatter::make_option_desc(const CLI::Option* opt) const {
  std::vector<std::string> facts;
  if (!opt->get_default_str().empty()) facts.push_back("default: " + opt->get_default_str());
  if (opt->get_required()) facts.push_back("required");
  if (!opt->get_needs().empty()) facts.push_back("needs: " + names_of(opt->get_needs()));
  if (!opt->get_excludes().empty()) facts.push_back("excludes: " + names_of(opt->get_excludes()));
  for (const auto& v : type_parts(opt).others) facts.push_back(validator_fact(v));
  if (!opt->get_envname().empty()) facts.push_back("env: " + opt->get_envname());
  std::string desc = opt->get_description();
  if (facts.empty()) return desc;
  std::string line;
  for (const auto& f : facts) line += (line.empty() ? "" : "; ") + f;
  return desc.empty() ? line : desc + "\n" + line;
}

std::string HelpFormatter::make_footer(const CLI::App* app) const {
  std::string out = app->get_footer();
  if (!out.empty()) out += "\n";
  const CLI::App* top = app;
  while (top->get_parent() != nullptr) top = top->get_parent();
  if (top == app) return out;
  std::string globals;
  for (const auto* g : top->get_options([top](const CLI::Option* o) { return o != top->get_help_ptr(); }))
    globals += (globals.empty() ? "" : ", ") + g->get_name() + make_option_opts(g);
  if (globals.empty()) return out;
  return out + (out.empty() ? "" : "\n") + "Global flags (oomwatch --help), before or after the command: " + globals +
         "\n";
}

void use_help_style(CLI::App& app) {
  app.formatter(std::make_shared<HelpFormatter>());
  app.set_help_flag("-h,--help", "print this help and exit");
  app.fallthrough();
}

CLI::Option* one_of(CLI::Option* opt, const std::vector<std::string>& values) {
  std::string set, list;
  for (const auto& v : values) {
    set += (set.empty() ? "" : ",") + v;
    list += (list.empty() ? "" : ", ") + v;
  }
  // CLI11 puts "--flag: " before the message: "--flag: 'x' is not one of a, b, c",
  // as the config file's keys say it. The description is the set --help shows.
  return opt->check(CLI::Validator(
      [values, list](std::string& v) {
        for (const auto& ok : values)
          if (v == ok) return std::string();
        return "'" + v + "' is not one of " + list;
      },
      "{" + set + "}"));
}

}  // namespace ow::cli
