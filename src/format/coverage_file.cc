// SPDX-License-Identifier: Apache-2.0
// Writer and validating reader of the binary coverage file (docs/format.md).
// The reader bounds every size by the bytes that remain before it allocates
// or loops: ParseCoverage is a fuzzing target.
#include "remcov/coverage_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "format/coverage_encoding.h"
#include "format/module_record.h"

namespace remcov {

static_assert(kCoverageModuleRecordBytes == REMCOV_MODULE_RECORD_BYTES);
static_assert(kCoverageModulePathMax == REMCOV_MODULE_PATH_MAX);
static_assert(kCoverageModuleBuildIdMax == REMCOV_MODULE_BUILD_ID_MAX);

namespace {

using format_internal::EncodeHeader;
using format_internal::PutCmpRecord;
using format_internal::PutU64;
uint64_t GetU64(std::string_view b, size_t off) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | static_cast<unsigned char>(b[off + static_cast<size_t>(i)]);
  return v;
}
uint32_t GetU32(std::string_view b, size_t off) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--)
    v = (v << 8) | static_cast<unsigned char>(b[off + static_cast<size_t>(i)]);
  return v;
}
// FNV-1a, 64-bit, over everything after the header.
uint64_t Checksum(std::string_view body) {
  format_internal::Fnv sum;
  sum.Add(body);
  return sum.h;
}
Status Corrupt(const std::string& what) {
  return Status(StatusCode::kDataLoss, "corrupt coverage file: " + what);
}
size_t Pad8(size_t n) { return (n + 7) & ~size_t{7}; }

// Decodes one module record at the front of *b and advances *b past it.
Status ParseModule(std::string_view* b, uint64_t index, CoverageModule* m) {
  const std::string where = "module " + std::to_string(index) + ": ";
  if (b->size() < kCoverageModuleRecordBytes)
    return Corrupt(where + "truncated record");
  const uint32_t kind = GetU32(*b, REMCOV_MODULE_OFF_KIND);
  if (kind > static_cast<uint32_t>(ModuleKind::kKernelModule))
    return Corrupt(where + "unknown kind " + std::to_string(kind));
  m->kind = static_cast<ModuleKind>(kind);
  m->flags = GetU32(*b, REMCOV_MODULE_OFF_FLAGS);
  const uint32_t path_len = GetU32(*b, REMCOV_MODULE_OFF_PATH_LEN);
  const uint32_t id_len = GetU32(*b, REMCOV_MODULE_OFF_BUILD_ID_LEN);
  if (path_len == 0 || path_len > kCoverageModulePathMax)
    return Corrupt(where + "bad path length " + std::to_string(path_len));
  if (id_len > kCoverageModuleBuildIdMax)
    return Corrupt(where + "bad build-id length " + std::to_string(id_len));
  m->start = GetU64(*b, REMCOV_MODULE_OFF_START);
  m->end = GetU64(*b, REMCOV_MODULE_OFF_END);
  m->bias = GetU64(*b, REMCOV_MODULE_OFF_BIAS);
  if (m->start > m->end) return Corrupt(where + "start above end");
  const size_t var = Pad8(size_t{path_len} + id_len);
  if (b->size() - kCoverageModuleRecordBytes < var)
    return Corrupt(where + "truncated path or build-id");
  std::string_view rest = b->substr(kCoverageModuleRecordBytes);
  m->path.assign(rest.data(), path_len);
  if (m->path.find('\0') != std::string::npos)
    return Corrupt(where + "path contains a NUL byte");
  m->build_id = HexEncode(rest.substr(path_len, id_len));
  for (size_t i = size_t{path_len} + id_len; i < var; i++) {
    if (rest[i] != 0) return Corrupt(where + "padding is not zero");
  }
  *b = rest.substr(var);
  return Status::Ok();
}

// Version 3: the process table at the front of *b (advanced past it).
Status ParseProcesses(std::string_view* b, CoverageData* d) {
  if (b->size() < 8) return Corrupt("truncated process table");
  const uint64_t count = GetU64(*b, 0);
  *b = b->substr(8);
  if (count > kCoverageProcessMax) {
    return Corrupt("process table says " + std::to_string(count) +
                   " processes (at most " +
                   std::to_string(kCoverageProcessMax) + ")");
  }
  if (count > b->size() / kCoverageProcessRecordBytes) {
    return Corrupt("process table says " + std::to_string(count) +
                   " processes but only " + std::to_string(b->size()) +
                   " bytes follow (truncated?)");
  }
  for (uint64_t i = 0; i < count; i++) {
    const std::string_view r = b->substr(0, kCoverageProcessRecordBytes);
    CoverageProcess p;
    p.pid = GetU64(r, 0);
    p.ppid = GetU64(r, 8);
    p.flags = GetU32(r, 16);
    if (GetU32(r, 20) != 0)
      return Corrupt("process " + std::to_string(i) +
                     ": reserved field is not zero");
    p.modules = GetU64(r, 24);
    p.entries = GetU64(r, 32);
    p.dropped = GetU64(r, 40);
    // No process can own more than the bytes that follow hold.
    if (p.modules > b->size() / kCoverageModuleRecordBytes ||
        p.entries > b->size() / 8) {
      return Corrupt("process " + std::to_string(i) + " claims " +
                     std::to_string(p.modules) + " modules and " +
                     std::to_string(p.entries) + " entries: more than the " +
                     std::to_string(b->size()) + " bytes left hold");
    }
    d->processes.push_back(p);
    *b = b->substr(kCoverageProcessRecordBytes);
  }
  return Status::Ok();
}

}  // namespace

std::string HexEncode(std::string_view raw) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (char c : raw) {
    const unsigned char u = static_cast<unsigned char>(c);
    out.push_back(kDigits[u >> 4]);
    out.push_back(kDigits[u & 15]);
  }
  return out;
}

std::string HexDecode(std::string_view hex, bool* ok) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  *ok = hex.size() % 2 == 0;
  std::string out;
  for (size_t i = 0; *ok && i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      *ok = false;
      break;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  if (!*ok) out.clear();
  return out;
}

std::string SerializeModules(const std::vector<CoverageModule>& modules) {
  std::string out;
  for (const CoverageModule& m : modules) {
    bool ok = false;
    std::string id = HexDecode(m.build_id, &ok);
    if (!ok || id.size() > kCoverageModuleBuildIdMax) id.clear();
    std::string path = m.path.substr(0, kCoverageModulePathMax);
    if (path.empty()) path = "?";
    const size_t at = out.size();
    out.resize(at + remcov_module_record_size(path.size(), id.size()));
    remcov_module_record_write(
        reinterpret_cast<unsigned char*>(out.data() + at),
        static_cast<uint32_t>(m.kind), m.flags, path.data(),
        static_cast<uint32_t>(path.size()),
        reinterpret_cast<const unsigned char*>(id.data()),
        static_cast<uint32_t>(id.size()), m.start, m.end, m.bias);
  }
  return out;
}

StatusOr<std::vector<CoverageModule>> ParseModules(std::string_view b,
                                                   uint64_t count) {
  // Each record takes at least kCoverageModuleRecordBytes: a count the bytes
  // cannot hold is rejected before any work.
  if (count > b.size() / kCoverageModuleRecordBytes) {
    return Corrupt("module count " + std::to_string(count) + " exceeds the " +
                   std::to_string(b.size()) + " bytes left (truncated?)");
  }
  std::vector<CoverageModule> out;
  for (uint64_t i = 0; i < count; i++) {
    CoverageModule m;
    REMCOV_RETURN_IF_ERROR(ParseModule(&b, i, &m));
    out.push_back(std::move(m));
  }
  if (!b.empty()) {
    return Corrupt(std::to_string(b.size()) +
                   " bytes after the last module record");
  }
  return out;
}

const CoverageModule* FindModule(std::span<const CoverageModule> modules,
                                 uint64_t pc) {
  for (const CoverageModule& m : modules) {
    if ((m.flags & kModuleAddressUnknown) == 0 && m.start <= pc && pc < m.end)
      return &m;
  }
  return nullptr;
}

Status CheckProcesses(const CoverageData& d) {
  if (d.processes.empty()) return Status::Ok();
  const uint64_t entries =
      d.mode == TraceMode::kPc ? d.pcs.size() : d.cmps.size();
  uint64_t modules = 0, in = 0;
  for (const CoverageProcess& p : d.processes) {
    if (p.modules > d.modules.size() - modules || p.entries > entries - in)
      return Status(StatusCode::kInvalidArgument,
                    "the process table claims more modules or entries than "
                    "there are");
    modules += p.modules;
    in += p.entries;
  }
  if (modules != d.modules.size() || in != entries) {
    return Status(StatusCode::kInvalidArgument,
                  "the process table covers " + std::to_string(modules) +
                      " modules and " + std::to_string(in) +
                      " entries, not all " + std::to_string(d.modules.size()) +
                      " and " + std::to_string(entries));
  }
  return Status::Ok();
}

std::vector<ProcessRange> ProcessRanges(const CoverageData& d) {
  const size_t entries =
      d.mode == TraceMode::kPc ? d.pcs.size() : d.cmps.size();
  std::vector<ProcessRange> out;
  if (d.processes.empty()) {
    out.push_back(ProcessRange{0, 0, d.modules.size(), 0, entries});
    return out;
  }
  size_t m = 0, e = 0;
  for (size_t i = 0; i < d.processes.size(); i++) {
    ProcessRange r;
    r.process = i;
    r.module_begin = m;
    r.module_end = m += static_cast<size_t>(d.processes[i].modules);
    r.entry_begin = e;
    r.entry_end = e += static_cast<size_t>(d.processes[i].entries);
    out.push_back(r);
  }
  return out;
}

std::vector<const CoverageModule*> EntryModules(const CoverageData& d) {
  std::vector<const CoverageModule*> out;
  const bool pc = d.mode == TraceMode::kPc;
  out.reserve(pc ? d.pcs.size() : d.cmps.size());
  for (const ProcessRange& r : ProcessRanges(d)) {
    const std::span<const CoverageModule> map(d.modules.data() + r.module_begin,
                                              r.module_end - r.module_begin);
    for (size_t i = r.entry_begin; i < r.entry_end; i++)
      out.push_back(FindModule(map, pc ? d.pcs[i] : d.cmps[i].ip));
  }
  return out;
}

std::string SerializeProcesses(const std::vector<CoverageProcess>& procs) {
  std::string out;
  PutU64(&out, procs.size());
  for (const CoverageProcess& p : procs) {
    PutU64(&out, p.pid);
    PutU64(&out, p.ppid);
    format_internal::PutU32(&out, p.flags);
    format_internal::PutU32(&out, 0);
    PutU64(&out, p.modules);
    PutU64(&out, p.entries);
    PutU64(&out, p.dropped);
  }
  return out;
}

std::string SerializeCoverage(const CoverageData& d) {
  std::string body = SerializeProcesses(d.processes);
  body += SerializeModules(d.modules);
  uint64_t n = 0;
  if (d.mode == TraceMode::kPc) {
    n = d.pcs.size();
    for (uint64_t pc : d.pcs) PutU64(&body, pc);
  } else {
    n = d.cmps.size();
    for (const CmpRecord& r : d.cmps) PutCmpRecord(&body, r);
  }
  return EncodeHeader(d, n, Checksum(body)) + body;
}

StatusOr<CoverageData> ParseCoverage(std::string_view b) {
  if (b.size() < kCoverageFileHeaderBytes) {
    return Corrupt("truncated header (" + std::to_string(b.size()) + " of " +
                   std::to_string(kCoverageFileHeaderBytes) + " bytes)");
  }
  if (memcmp(b.data(), kCoverageFileMagic, sizeof kCoverageFileMagic) != 0)
    return Corrupt("bad magic (not a remcov coverage file)");
  CoverageData d;
  d.version = GetU32(b, 8);
  if (d.version < kCoverageFileOldestVersion ||
      d.version > kCoverageFileVersion) {
    return Status(StatusCode::kUnimplemented,
                  "coverage file version " + std::to_string(d.version) +
                      " is not supported (this remcov reads versions " +
                      std::to_string(kCoverageFileOldestVersion) + " to " +
                      std::to_string(kCoverageFileVersion) + ")");
  }
  if (GetU32(b, 12) != kCoverageFileHeaderBytes)
    return Corrupt("bad header size");
  uint32_t mode = GetU32(b, 16);
  if (mode > 1) return Corrupt("unknown mode " + std::to_string(mode));
  d.mode = static_cast<TraceMode>(mode);
  d.word_bytes = GetU32(b, 20);
  if (d.word_bytes != 4 && d.word_bytes != 8)
    return Corrupt("bad word size " + std::to_string(d.word_bytes));
  d.flags = GetU32(b, 24);
  // Version 1: reserved, zero. Version 2: the number of module records.
  const uint32_t module_count = GetU32(b, 28);
  if (d.version == 1 && module_count != 0)
    return Corrupt("reserved field is not zero");
  uint64_t n = GetU64(b, 32);
  d.raw_count = GetU64(b, 40);
  d.dropped = GetU64(b, 48);
  uint64_t sum = GetU64(b, 56);
  const std::string_view all = b.substr(kCoverageFileHeaderBytes);
  std::string_view body = all;
  const uint64_t entry_bytes = d.mode == TraceMode::kPc ? 8 : 32;
  if (d.version >= 3) REMCOV_RETURN_IF_ERROR(ParseProcesses(&body, &d));
  // The module records lie before the payload; their total size is known
  // only by walking them, each bounded by what is left.
  if (module_count > body.size() / kCoverageModuleRecordBytes) {
    return Corrupt("header says " + std::to_string(module_count) +
                   " modules but only " + std::to_string(body.size()) +
                   " bytes follow (truncated?)");
  }
  for (uint32_t i = 0; i < module_count; i++) {
    CoverageModule m;
    REMCOV_RETURN_IF_ERROR(ParseModule(&body, i, &m));
    d.modules.push_back(std::move(m));
  }
  const uint64_t payload_bytes = body.size();
  if (n > payload_bytes / entry_bytes || n * entry_bytes != payload_bytes) {
    return Corrupt("header says " + std::to_string(n) +
                   " entries but the payload has " +
                   std::to_string(payload_bytes) + " bytes (truncated?)");
  }
  if (!d.processes.empty()) {
    uint64_t mods = 0, entries = 0;
    for (const CoverageProcess& p : d.processes) {
      // Each bounded by the bytes left, so the sums cannot wrap.
      mods += p.modules;
      entries += p.entries;
    }
    if (mods != module_count || entries != n) {
      return Corrupt("the process table accounts for " + std::to_string(mods) +
                     " modules and " + std::to_string(entries) +
                     " entries, the header for " +
                     std::to_string(module_count) + " and " +
                     std::to_string(n));
    }
  }
  // Structure first (a truncated file says "truncated"), then the checksum
  // over the module table and the payload.
  if (Checksum(all) != sum) return Corrupt("checksum mismatch");
  // n is bounded by the input's size here.
  if (d.mode == TraceMode::kPc) {
    d.pcs.reserve(static_cast<size_t>(n));
  } else {
    d.cmps.reserve(static_cast<size_t>(n));
  }
  for (uint64_t i = 0; i < n; i++) {
    size_t off = static_cast<size_t>(i * entry_bytes);
    if (d.mode == TraceMode::kPc) {
      d.pcs.push_back(GetU64(body, off));
    } else {
      CmpRecord r{GetU64(body, off), GetU64(body, off + 8),
                  GetU64(body, off + 16), GetU64(body, off + 24)};
      if (!r.valid()) {
        return Corrupt("comparison record " + std::to_string(i) + " has type " +
                       std::to_string(r.type) + " (> 7)");
      }
      d.cmps.push_back(r);
    }
  }
  return d;
}

Status WriteCoverageFile(const std::string& path, const CoverageData& data) {
  std::string bytes = SerializeCoverage(data);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "cannot create " + path);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int err = errno;
      close(fd);
      return Status::FromErrno(err, "cannot write " + path);
    }
    done += static_cast<size_t>(w);
  }
  if (close(fd) != 0) return Status::FromErrno(errno, "cannot write " + path);
  return Status::Ok();
}

namespace {

// Reads up to `limit` bytes of fd into *out (fewer at end of file).
Status ReadUpTo(int fd, uint64_t limit, const std::string& path,
                std::string* out) {
  char buf[65536];
  while (out->size() < limit) {
    const uint64_t want = std::min<uint64_t>(sizeof buf, limit - out->size());
    ssize_t r = read(fd, buf, static_cast<size_t>(want));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::FromErrno(errno, "cannot read " + path);
    if (r == 0) break;
    out->append(buf, static_cast<size_t>(r));
  }
  return Status::Ok();
}

// The most bytes a file with this header can hold: the header, the largest
// process table (version 3), `modules` records of the largest size and `n`
// entries; saturates at UINT64_MAX.
uint64_t MaxFileBytes(uint32_t version, uint32_t modules, uint64_t n,
                      uint64_t entry_bytes) {
  const uint64_t record_max =
      kCoverageModuleRecordBytes +
      Pad8(size_t{kCoverageModulePathMax} + kCoverageModuleBuildIdMax);
  const uint64_t processes =
      version >= 3 ? 8 + kCoverageProcessMax * kCoverageProcessRecordBytes : 0;
  const uint64_t table = uint64_t{modules} * record_max + processes;
  if (n > (UINT64_MAX - kCoverageFileHeaderBytes - table) / entry_bytes)
    return UINT64_MAX;
  return kCoverageFileHeaderBytes + table + n * entry_bytes;
}

StatusOr<CoverageData> ReadBounded(int fd, const std::string& path,
                                   bool regular, uint64_t* bytes_read) {
  // The header first: its magic and counts bound what is read after it, so
  // neither a device that never ends (/dev/zero) nor a header with huge
  // counts makes the reader read or allocate more than the file can hold.
  std::string bytes;
  REMCOV_RETURN_IF_ERROR(ReadUpTo(fd, kCoverageFileHeaderBytes, path, &bytes));
  *bytes_read = bytes.size();
  if (bytes.size() < kCoverageFileHeaderBytes ||
      memcmp(bytes.data(), kCoverageFileMagic, sizeof kCoverageFileMagic) !=
          0) {
    return ParseCoverage(bytes);  // truncated header / bad magic
  }
  const uint32_t mode = GetU32(bytes, 16);
  const uint64_t entry_bytes = mode == 0 ? 8 : 32;
  const uint64_t max = MaxFileBytes(GetU32(bytes, 8), GetU32(bytes, 28),
                                    GetU64(bytes, 32), entry_bytes);
  if (!regular && max > kCoverageStreamMaxBytes) {
    return Corrupt("the header's counts (" + std::to_string(GetU32(bytes, 28)) +
                   " modules, " + std::to_string(GetU64(bytes, 32)) +
                   " entries) exceed the " +
                   std::to_string(kCoverageStreamMaxBytes) +
                   "-byte limit of a non-regular file");
  }
  // One byte more than allowed, to tell "too long" from "exactly full".
  const uint64_t limit = max == UINT64_MAX ? max : max + 1;
  REMCOV_RETURN_IF_ERROR(ReadUpTo(fd, limit, path, &bytes));
  *bytes_read = bytes.size();
  if (bytes.size() > max) {
    return Corrupt("more bytes than its header allows (at most " +
                   std::to_string(max) + "; stopped reading after " +
                   std::to_string(bytes.size()) + ")");
  }
  return ParseCoverage(bytes);
}

}  // namespace

StatusOr<CoverageData> ReadCoverageFd(int fd, const std::string& path) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return Status::FromErrno(errno, "cannot stat " + path);
  const bool regular = S_ISREG(st.st_mode);
  uint64_t bytes_read = 0;
  auto d = ReadBounded(fd, path, regular, &bytes_read);
  if (!d.ok()) {
    std::string msg = path + ": " + d.status().message();
    if (!regular) {
      msg += " (not a regular file: read " + std::to_string(bytes_read) +
             " bytes, at most " + std::to_string(kCoverageStreamMaxBytes) +
             " are read)";
    }
    return Status(d.status().code(), msg, d.status().error_number());
  }
  return d;
}

StatusOr<CoverageData> ReadCoverageFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "cannot open " + path);
  auto d = ReadCoverageFd(fd, path);
  close(fd);
  return d;
}

}  // namespace remcov
