// Environment a test-memory or stress-memory run needs around its engine, kept
// out of the CLI files: the file strategy's directory, checked to be on disk
// and to have room for what the run will write.
#pragma once
#include <optional>
#include <string>

#include "stress/disk_dir.hpp"
#include "stress/strategy.hpp"

namespace ow::stress {

struct FileDirError {
  bool usage = false;  // the user's --file-dir is unusable (else: the environment)
  Error error;
  std::string hint;
};

// nullopt dir when the strategy writes no file. file_bytes: what the run writes.
struct FileDirSetup {
  std::optional<ScopedTempDir> dir;
  std::optional<FileDirError> failure;
};
FileDirSetup prepare_file_dir(Strategy s, const std::string& user_dir, uint64_t file_bytes, const std::string& tag);

}  // namespace ow::stress
