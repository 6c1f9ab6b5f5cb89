// One look for every command's --help, set once on the app and inherited by
// each subcommand: a flag's value is its type, or {a,b,c} when only those
// values are accepted; under its description, one line of facts in a fixed
// form ("default: X; required; needs: --a; excludes: --b; range: 1 to 9"),
// never glued to the text; and each subcommand's help ends with the global
// flags, which may come before or after the command.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace ow::cli {

class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* opt) const override;
  std::string make_option_desc(const CLI::Option* opt) const override;
  std::string make_footer(const CLI::App* app) const override;
};

// The formatter, the help flag's text and fallthrough (a subcommand hands
// the flags it does not know, the global ones, to the app), set on app
// before any subcommand is added so that each inherits them.
void use_help_style(CLI::App& app);

// The flag accepts exactly `values` (the names the code parses), and its
// --help lists them; any other value is a one-line usage error at parse time.
CLI::Option* one_of(CLI::Option* opt, const std::vector<std::string>& values);

}  // namespace ow::cli
