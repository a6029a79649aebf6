// SPDX-License-Identifier: Apache-2.0
// Writer and validating reader of the binary coverage file (docs/format.md).
#include "remcov/coverage_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

namespace remcov {
namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; i++)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; i++)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
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
// FNV-1a, 64-bit, over the payload bytes.
uint64_t Checksum(std::string_view payload) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : payload) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}
Status Corrupt(const std::string& what) {
  return Status(StatusCode::kDataLoss, "corrupt coverage file: " + what);
}

}  // namespace

std::string SerializeCoverage(const CoverageData& d) {
  std::string payload;
  uint64_t n = 0;
  if (d.mode == TraceMode::kPc) {
    n = d.pcs.size();
    for (uint64_t pc : d.pcs) PutU64(&payload, pc);
  } else {
    n = d.cmps.size();
    for (const CmpRecord& r : d.cmps) {
      PutU64(&payload, r.type);
      PutU64(&payload, r.arg1);
      PutU64(&payload, r.arg2);
      PutU64(&payload, r.ip);
    }
  }
  std::string out(kCoverageFileMagic, sizeof kCoverageFileMagic);
  PutU32(&out, kCoverageFileVersion);
  PutU32(&out, kCoverageFileHeaderBytes);
  PutU32(&out, static_cast<uint32_t>(d.mode));
  PutU32(&out, d.word_bytes);
  PutU32(&out, d.flags);
  PutU32(&out, 0);  // reserved
  PutU64(&out, n);
  PutU64(&out, d.raw_count);
  PutU64(&out, d.dropped);
  PutU64(&out, Checksum(payload));
  return out + payload;
}

StatusOr<CoverageData> ParseCoverage(std::string_view b) {
  if (b.size() < kCoverageFileHeaderBytes) {
    return Corrupt("truncated header (" + std::to_string(b.size()) + " of " +
                   std::to_string(kCoverageFileHeaderBytes) + " bytes)");
  }
  if (memcmp(b.data(), kCoverageFileMagic, sizeof kCoverageFileMagic) != 0)
    return Corrupt("bad magic (not a remcov coverage file)");
  uint32_t version = GetU32(b, 8);
  if (version != kCoverageFileVersion) {
    return Status(StatusCode::kUnimplemented,
                  "coverage file version " + std::to_string(version) +
                      " is not supported (this remcov reads version " +
                      std::to_string(kCoverageFileVersion) + ")");
  }
  if (GetU32(b, 12) != kCoverageFileHeaderBytes)
    return Corrupt("bad header size");
  CoverageData d;
  uint32_t mode = GetU32(b, 16);
  if (mode > 1) return Corrupt("unknown mode " + std::to_string(mode));
  d.mode = static_cast<TraceMode>(mode);
  d.word_bytes = GetU32(b, 20);
  if (d.word_bytes != 4 && d.word_bytes != 8)
    return Corrupt("bad word size " + std::to_string(d.word_bytes));
  d.flags = GetU32(b, 24);
  if (GetU32(b, 28) != 0) return Corrupt("reserved field is not zero");
  uint64_t n = GetU64(b, 32);
  d.raw_count = GetU64(b, 40);
  d.dropped = GetU64(b, 48);
  uint64_t sum = GetU64(b, 56);
  const uint64_t entry_bytes = d.mode == TraceMode::kPc ? 8 : 32;
  const uint64_t payload_bytes = b.size() - kCoverageFileHeaderBytes;
  if (n > payload_bytes / entry_bytes || n * entry_bytes != payload_bytes) {
    return Corrupt("header says " + std::to_string(n) +
                   " entries but the payload has " +
                   std::to_string(payload_bytes) + " bytes (truncated?)");
  }
  std::string_view payload = b.substr(kCoverageFileHeaderBytes);
  if (Checksum(payload) != sum) return Corrupt("payload checksum mismatch");
  for (uint64_t i = 0; i < n; i++) {
    size_t off = static_cast<size_t>(i * entry_bytes);
    if (d.mode == TraceMode::kPc) {
      d.pcs.push_back(GetU64(payload, off));
    } else {
      CmpRecord r{GetU64(payload, off), GetU64(payload, off + 8),
                  GetU64(payload, off + 16), GetU64(payload, off + 24)};
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

StatusOr<CoverageData> ReadCoverageFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "cannot open " + path);
  std::string bytes;
  char buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int err = errno;
      close(fd);
      return Status::FromErrno(err, "cannot read " + path);
    }
    if (r == 0) break;
    bytes.append(buf, static_cast<size_t>(r));
  }
  close(fd);
  auto d = ParseCoverage(bytes);
  if (!d.ok()) {
    return Status(d.status().code(), path + ": " + d.status().message(),
                  d.status().error_number());
  }
  return d;
}

}  // namespace remcov
