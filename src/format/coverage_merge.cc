// SPDX-License-Identifier: Apache-2.0
// The union of coverage files (coverage_merge.h).
#include "format/coverage_merge.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <span>
#include <tuple>
#include <utility>

#include "format/coverage_encoding.h"

namespace remcov {
namespace {

Status Refuse(const std::string& what) {
  return Status(StatusCode::kInvalidArgument, what);
}

const char* ModeName(TraceMode m) { return m == TraceMode::kPc ? "pc" : "cmp"; }

std::string ModuleKeyOf(const CoverageModule& m) {
  // Matched by build-id; by path when the build-id is unknown.
  std::string key(1, static_cast<char>('0' + static_cast<uint32_t>(m.kind)));
  key += m.build_id.empty() ? "p:" + m.path : "b:" + m.build_id;
  return key;
}

// The input's modules with a known range, sorted by start, for a binary
// search per PC; FindModule (first record wins) when ranges overlap.
class ModuleLookup {
 public:
  explicit ModuleLookup(std::span<const CoverageModule> mods) : mods_(mods) {
    for (size_t i = 0; i < mods.size(); i++) {
      if ((mods[i].flags & kModuleAddressUnknown) == 0 &&
          mods[i].start < mods[i].end)
        sorted_.push_back(i);
    }
    std::sort(sorted_.begin(), sorted_.end(), [&](size_t a, size_t b) {
      return mods[a].start < mods[b].start;
    });
    for (size_t i = 1; i < sorted_.size(); i++) {
      if (mods[sorted_[i]].start < mods[sorted_[i - 1]].end) overlap_ = true;
    }
  }
  // Index into the input's modules, or -1.
  long Find(uint64_t pc) const {
    if (overlap_) {
      const CoverageModule* m = FindModule(mods_, pc);
      return m == nullptr ? -1 : static_cast<long>(m - mods_.data());
    }
    auto it = std::upper_bound(
        sorted_.begin(), sorted_.end(), pc,
        [&](uint64_t v, size_t i) { return v < mods_[i].start; });
    if (it == sorted_.begin()) return -1;
    --it;
    return pc < mods_[*it].end ? static_cast<long>(*it) : -1;
  }

 private:
  std::span<const CoverageModule> mods_;
  std::vector<size_t> sorted_;
  bool overlap_ = false;
};

using format_internal::EncodeHeader;
using format_internal::Fnv;
using format_internal::PutCmpRecord;
using format_internal::PutU64;

Status WriteAt(int fd, const std::string& bytes, off_t at,
               const std::string& name) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = pwrite(fd, bytes.data() + done, bytes.size() - done,
                       at + static_cast<off_t>(done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Status::FromErrno(errno, "cannot write " + name);
    done += static_cast<size_t>(w);
  }
  return Status::Ok();
}

}  // namespace

size_t CoverageMerger::CmpKeyHash::operator()(const CmpKey& k) const {
  uint64_t h = k.module;
  for (uint64_t v : {k.addr, k.type, k.arg1, k.arg2})
    h = (h ^ v) * 0x9e3779b97f4a7c15ull + (h >> 29);
  return static_cast<size_t>(h);
}

uint32_t CoverageMerger::ModuleIndex(const CoverageModule& m) {
  auto [it, added] = module_index_.emplace(
      ModuleKeyOf(m), static_cast<uint32_t>(modules_.size()));
  if (added) {
    modules_.push_back(OutModule{.record = m});
    pc_hits_.emplace_back();
  }
  OutModule& out = modules_[it->second];
  if ((m.flags & kModuleAddressUnknown) == 0 && m.start < m.end) {
    const uint64_t lo = m.start - m.bias, hi = m.end - m.bias;
    if (!out.has_range) {
      out.has_range = true;
      out.lo = lo;
      out.hi = hi;
      out.record.start = m.start;
      out.record.end = m.end;
      out.record.bias = m.bias;
      out.record.flags &= ~uint32_t{kModuleAddressUnknown};
    } else {
      out.lo = std::min(out.lo, lo);
      out.hi = std::max(out.hi, hi);
    }
  }
  return it->second;
}

Status CoverageMerger::Add(const CoverageData& d) {
  if (first_) {
    mode_ = d.mode;
    word_bytes_ = d.word_bytes;
  } else if (d.mode != mode_) {
    return Refuse(std::string("its mode is ") + ModeName(d.mode) +
                  " but the inputs before it are " + ModeName(mode_) +
                  ": PC and comparison coverage cannot be merged");
  } else if (d.word_bytes != word_bytes_) {
    return Refuse("its word size is " + std::to_string(d.word_bytes) +
                  " bytes but the inputs before it have " +
                  std::to_string(word_bytes_));
  }
  first_ = false;
  stats_.files++;
  stats_.dropped += d.dropped;
  if (d.flags & kCoverageOverflow) stats_.overflowed_files++;
  flags_ |= d.flags & ~uint32_t{kCoverageUnique};
  REMCOV_RETURN_IF_ERROR(CheckProcesses(d));
  std::vector<uint32_t> out_index;
  out_index.reserve(d.modules.size());
  for (const CoverageModule& m : d.modules) out_index.push_back(ModuleIndex(m));
  stats_.entries_in += d.mode == TraceMode::kPc ? d.pcs.size() : d.cmps.size();
  // Each process's entries resolve through its own load map.
  for (const ProcessRange& pr : ProcessRanges(d)) {
    const std::span<const CoverageModule> map(
        d.modules.data() + pr.module_begin, pr.module_end - pr.module_begin);
    const ModuleLookup lookup(map);
    for (size_t e = pr.entry_begin; e < pr.entry_end; e++) {
      if (d.mode == TraceMode::kPc) {
        const uint64_t pc = d.pcs[e];
        const long i = lookup.Find(pc);
        if (i < 0) {
          stats_.unattributed++;
          raw_hits_[pc]++;
          continue;
        }
        const size_t idx = pr.module_begin + static_cast<size_t>(i);
        pc_hits_[out_index[idx]][pc - d.modules[idx].bias]++;
      } else {
        const CmpRecord& r = d.cmps[e];
        const long i = lookup.Find(r.ip);
        CmpKey k{kNone, r.ip, r.type, r.arg1, r.arg2};
        if (i < 0) {
          stats_.unattributed++;
        } else {
          const size_t idx = pr.module_begin + static_cast<size_t>(i);
          k.module = out_index[idx];
          k.addr = r.ip - d.modules[idx].bias;
        }
        cmp_hits_[k]++;
      }
    }
  }
  return Status::Ok();
}

uint64_t CoverageMerger::distinct() const {
  uint64_t n = raw_hits_.size() + cmp_hits_.size();
  for (const auto& h : pc_hits_) n += h.size();
  return n;
}

uint64_t CoverageMerger::output_entries(bool unique) const {
  if (unique) return distinct();
  uint64_t n = 0;
  for (const auto& [pc, c] : raw_hits_) n += c;
  for (const auto& h : pc_hits_)
    for (const auto& [a, c] : h) n += c;
  for (const auto& [k, c] : cmp_hits_) n += c;
  return n;
}

StatusOr<std::vector<uint64_t>> CoverageMerger::Layout() const {
  std::vector<uint64_t> bias(modules_.size(), 0);
  // Above every module's preferred range and every PC kept unchanged.
  uint64_t top = 0;
  for (const OutModule& m : modules_) {
    if (m.has_range) top = std::max(top, m.hi + m.record.bias);
  }
  for (const auto& [pc, c] : raw_hits_) top = std::max(top, pc + 1);
  for (const auto& [k, c] : cmp_hits_)
    if (k.module == kNone) top = std::max(top, k.addr + 1);
  std::vector<std::pair<uint64_t, uint64_t>> placed;  // [start, end)
  for (size_t i = 0; i < modules_.size(); i++) {
    const OutModule& m = modules_[i];
    bias[i] = m.record.bias;
    if (!m.has_range) continue;
    uint64_t start = m.lo + m.record.bias, end = m.hi + m.record.bias;
    bool clash = false;
    for (const auto& [s, e] : placed) clash |= start < e && s < end;
    if (clash) {
      const uint64_t size = m.hi - m.lo;
      const uint64_t at = (top + 0xfff) & ~uint64_t{0xfff};
      if (at < top || at > UINT64_MAX - size) {
        return Refuse("module " + m.record.path +
                      " cannot be placed beside the others (no address range "
                      "left above them)");
      }
      start = at;
      end = at + size;
      bias[i] = start - m.lo;
      top = end;
    }
    placed.emplace_back(start, end);
  }
  return bias;
}

template <typename Fn>
Status CoverageMerger::ForEachEntry(const std::vector<uint64_t>& bias,
                                    Fn&& fn) const {
  // Sorted by module (table order), then address; PCs outside modules last.
  if (mode_ == TraceMode::kPc) {
    for (size_t i = 0; i <= pc_hits_.size(); i++) {
      const auto& map = i < pc_hits_.size() ? pc_hits_[i] : raw_hits_;
      const uint64_t b = i < pc_hits_.size() ? bias[i] : 0;
      std::vector<std::pair<uint64_t, uint64_t>> v(map.begin(), map.end());
      std::sort(v.begin(), v.end());
      for (const auto& [addr, count] : v)
        REMCOV_RETURN_IF_ERROR(fn(CmpRecord{0, 0, 0, addr + b}, count));
    }
    return Status::Ok();
  }
  std::vector<std::pair<CmpKey, uint64_t>> v(cmp_hits_.begin(),
                                             cmp_hits_.end());
  std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) {
    const CmpKey &a = x.first, &b = y.first;
    return std::tie(a.module, a.addr, a.type, a.arg1, a.arg2) <
           std::tie(b.module, b.addr, b.type, b.arg1, b.arg2);
  });
  for (const auto& [k, count] : v) {
    const uint64_t b = k.module == kNone ? 0 : bias[k.module];
    REMCOV_RETURN_IF_ERROR(
        fn(CmpRecord{k.type, k.arg1, k.arg2, k.addr + b}, count));
  }
  return Status::Ok();
}

CoverageData CoverageMerger::Header(bool unique,
                                    const std::vector<uint64_t>& bias) const {
  CoverageData d;
  d.mode = mode_;
  d.word_bytes = word_bytes_;
  d.flags = flags_ | (unique ? uint32_t{kCoverageUnique} : 0u);
  d.dropped = stats_.dropped;
  d.raw_count = output_entries(unique) + stats_.dropped;
  for (size_t i = 0; i < modules_.size(); i++) {
    CoverageModule m = modules_[i].record;
    if (modules_[i].has_range) {
      m.bias = bias[i];
      m.start = modules_[i].lo + m.bias;
      m.end = modules_[i].hi + m.bias;
    }
    d.modules.push_back(m);
  }
  return d;
}

StatusOr<CoverageData> CoverageMerger::Result(bool unique) const {
  auto bias = Layout();
  if (!bias.ok()) return bias.status();
  CoverageData d = Header(unique, *bias);
  Status s = ForEachEntry(*bias, [&](const CmpRecord& r, uint64_t count) {
    const uint64_t n = unique ? 1 : count;
    for (uint64_t k = 0; k < n; k++) {
      if (mode_ == TraceMode::kPc)
        d.pcs.push_back(r.ip);
      else
        d.cmps.push_back(r);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return d;
}

Status CoverageMerger::Write(int fd, const std::string& name,
                             bool unique) const {
  auto bias = Layout();
  if (!bias.ok()) return bias.status();
  CoverageData d = Header(unique, *bias);
  Fnv sum;
  off_t at = kCoverageFileHeaderBytes;
  // No process table: a merge is one address space.
  std::string buf;
  PutU64(&buf, 0);
  buf += SerializeModules(d.modules);
  uint64_t n = 0;
  auto flush = [&]() -> Status {
    sum.Add(buf);
    REMCOV_RETURN_IF_ERROR(WriteAt(fd, buf, at, name));
    at += static_cast<off_t>(buf.size());
    buf.clear();
    return Status::Ok();
  };
  Status s = ForEachEntry(*bias, [&](const CmpRecord& r, uint64_t count) {
    const uint64_t k = unique ? 1 : count;
    for (uint64_t j = 0; j < k; j++) {
      if (mode_ == TraceMode::kPc) {
        PutU64(&buf, r.ip);
      } else {
        PutCmpRecord(&buf, r);
      }
      n++;
      if (buf.size() >= (1u << 20)) REMCOV_RETURN_IF_ERROR(flush());
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  REMCOV_RETURN_IF_ERROR(flush());
  // The header last: it holds the checksum of everything after it.
  const std::string h = EncodeHeader(d, n, sum.h);
  REMCOV_RETURN_IF_ERROR(WriteAt(fd, h, 0, name));
  if (ftruncate(fd, at) != 0)
    return Status::FromErrno(errno, "cannot write " + name);
  return Status::Ok();
}

}  // namespace remcov
