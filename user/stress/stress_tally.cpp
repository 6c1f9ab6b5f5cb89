#include "stress/stress_tally.hpp"

namespace ow::stress {

StressTally::Next StressTally::on_worker_end(const cg::ExitStatus& st) {
  if (st.signaled) {
    ++kills_;
    return Next::Restart;
  }
  ++failures_;  // exit 0 without a release is a failure too: it should be holding
  return ++consecutive_failures_ >= kMaxConsecutiveFailures ? Next::GiveUp : Next::Restart;
}

}  // namespace ow::stress
