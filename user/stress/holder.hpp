// Everything one worker holds: up to one Region per kind, grown step by step
// and recycled round-robin. Lives in the worker process only.
#pragma once
#include <array>
#include <memory>
#include <string>

#include "stress/plan.hpp"
#include "stress/region.hpp"

namespace ow::stress {

class Holder {
 public:
  // file_dir: disk-backed directory for the file kind (unused otherwise).
  explicit Holder(std::string file_dir) : file_dir_(std::move(file_dir)) {}

  Status apply(const Step& s);
  uint64_t held_bytes() const;
  // Frees and re-charges the next chunk, cycling over every chunk of every kind.
  Status recycle_next();
  Status keepalive();

 private:
  Result<Region*> region(Kind k);

  std::array<std::unique_ptr<Region>, 3> regions_;
  std::string file_dir_;
  size_t cursor_ = 0;
};

}  // namespace ow::stress
