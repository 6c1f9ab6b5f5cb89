#include "stats/sketch.hpp"

#include <algorithm>
#include <cmath>

#include "stats/quantile.hpp"

namespace ow::stats {
namespace {

const double kGamma = (1 + LogSketch::kRelativeAccuracy) / (1 - LogSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// false on a varint running past the end or over 64 bits (a cut or garbled blob).
bool get_varint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    if (shift == 63 && (b & 0x7e)) return false;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// Walks an encoded sketch; fn(key, count) per bin. Validates everything first
// when fn is a no-op, so merge_encoded can refuse a bad blob before adding.
template <typename Fn>
bool walk_encoded(std::string_view in, Fn&& fn) {
  uint64_t nbins = 0, key = 0;
  if (!get_varint(in, nbins) || nbins > in.size()) return false;
  for (uint64_t i = 0; i < nbins; ++i) {
    uint64_t delta = 0, count = 0;
    if (!get_varint(in, delta) || !get_varint(in, count)) return false;
    if ((i > 0 && delta == 0) || count == 0) return false;  // keys strictly increase
    key += delta;
    if (key > UINT32_MAX) return false;
    fn(static_cast<uint32_t>(key), count);
  }
  return in.empty();
}

}  // namespace

uint32_t LogSketch::key_of(uint64_t v) {
  if (v < kExactBelow) return static_cast<uint32_t>(v);
  double j = std::ceil(std::log(static_cast<double>(v) / kExactBelow) / kLogGamma);
  return static_cast<uint32_t>(kExactBelow + static_cast<uint32_t>(std::max(0.0, j)));
}

uint64_t LogSketch::representative(uint32_t key) {
  if (key < kExactBelow) return key;
  double r = 2.0 * kExactBelow * std::pow(kGamma, key - kExactBelow) / (kGamma + 1);
  if (r >= 18446744073709549568.0) return UINT64_MAX;  // top bin: do not overflow the cast
  return static_cast<uint64_t>(r + 0.5);
}

void LogSketch::grow_to(uint32_t key) {
  if (counts_.empty()) {
    lo_ = key;
    counts_.assign(1, 0);
  } else if (key < lo_) {
    counts_.insert(counts_.begin(), lo_ - key, 0);
    lo_ = key;
  } else if (key - lo_ >= counts_.size()) {
    counts_.resize(key - lo_ + 1, 0);
  }
}

void LogSketch::add(uint64_t v, uint64_t count) {
  if (count == 0) return;
  uint32_t k = key_of(v);
  grow_to(k);
  counts_[k - lo_] += count;
  n_ += count;
}

void LogSketch::merge(const LogSketch& o) {
  if (o.empty()) return;
  grow_to(o.lo_);
  grow_to(o.lo_ + static_cast<uint32_t>(o.counts_.size()) - 1);
  for (size_t i = 0; i < o.counts_.size(); ++i) counts_[o.lo_ + i - lo_] += o.counts_[i];
  n_ += o.n_;
}

void LogSketch::clear() {
  counts_.clear();
  lo_ = 0;
  n_ = 0;
}

uint64_t LogSketch::quantile(unsigned pct) const {
  uint64_t rank = nearest_rank(n_, pct), seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return representative(lo_ + static_cast<uint32_t>(i));
  }
  return representative(lo_ + static_cast<uint32_t>(counts_.size()) - 1);  // unreachable when n_ > 0
}

std::string LogSketch::encode() const {
  std::string out;
  uint64_t nbins = std::count_if(counts_.begin(), counts_.end(), [](uint64_t c) { return c != 0; });
  put_varint(out, nbins);
  uint64_t prev = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (!counts_[i]) continue;
    uint64_t key = lo_ + i;
    put_varint(out, key - prev);
    put_varint(out, counts_[i]);
    prev = key;
  }
  return out;
}

Status LogSketch::merge_encoded(std::string_view blob) {
  if (!walk_encoded(blob, [](uint32_t, uint64_t) {})) return app_error("malformed quantile sketch blob");
  walk_encoded(blob, [this](uint32_t key, uint64_t count) {
    grow_to(key);
    counts_[key - lo_] += count;
    n_ += count;
  });
  return {};
}

Result<LogSketch> LogSketch::decode(std::string_view blob) {
  LogSketch s;
  if (auto st = s.merge_encoded(blob); !st) return st.error();
  return s;
}

bool LogSketch::operator==(const LogSketch& o) const { return n_ == o.n_ && encode() == o.encode(); }

}  // namespace ow::stats
