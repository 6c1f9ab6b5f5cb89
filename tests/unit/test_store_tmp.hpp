// A throw-away directory for store and CLI tests, removed on every path.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace owtest {
struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/owtest-store-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { (void)!std::system(("rm -rf '" + path + "'").c_str()); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};
}  // namespace owtest
