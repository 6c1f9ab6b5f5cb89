#include "stress/holder.hpp"

namespace ow::stress {

Result<Region*> Holder::region(Kind k) {
  auto& r = regions_[static_cast<int>(k)];
  if (!r) {
    switch (k) {
      case Kind::Anon: r = make_anon_region(); break;
      case Kind::Shmem: {
        auto m = make_shmem_region();
        if (!m) return m.error();
        r = std::move(*m);
        break;
      }
      case Kind::File: {
        auto m = make_file_region(file_dir_);
        if (!m) return m.error();
        r = std::move(*m);
        break;
      }
    }
  }
  return r.get();
}

Status Holder::apply(const Step& s) {
  auto r = region(s.kind);
  if (!r) return r.error();
  return (*r)->grow(s.bytes);
}

uint64_t Holder::held_bytes() const {
  uint64_t n = 0;
  for (const auto& r : regions_)
    if (r) n += r->bytes();
  return n;
}

Status Holder::recycle_next() {
  size_t total = 0;
  for (const auto& r : regions_)
    if (r) total += r->chunks();
  if (total == 0) return {};
  size_t i = cursor_++ % total;
  for (const auto& r : regions_) {
    if (!r) continue;
    if (i < r->chunks()) return r->recycle(i);
    i -= r->chunks();
  }
  return {};
}

Status Holder::keepalive() {
  for (const auto& r : regions_)
    if (r) {
      auto s = r->keepalive();
      if (!s) return s;
    }
  return {};
}

}  // namespace ow::stress
