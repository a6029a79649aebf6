// SPDX-License-Identifier: Apache-2.0
#include "test_util.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <unordered_map>

#include <gtest/gtest.h>

namespace remcov::testing {

RawDevice::RawDevice(size_t words) : words_(words) {
  fd_ = remcov_open();
  EXPECT_GE(fd_, 0) << strerror(errno);
  EXPECT_EQ(remcov_ioctl(fd_, REMCOV_KCOV_INIT_TRACE, words), 0)
      << strerror(errno);
  void* p = remcov_mmap(nullptr, words * sizeof(unsigned long),
                        PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  EXPECT_NE(p, MAP_FAILED) << strerror(errno);
  area_ = static_cast<uint64_t*>(p);
}

RawDevice::~RawDevice() {
  if (area_ != nullptr && area_ != MAP_FAILED)
    munmap(area_, words_ * sizeof(unsigned long));
  if (fd_ >= 0) remcov_close(fd_);
}

std::vector<uint64_t> RawDevice::Pcs() const {
  uint64_t n = Count();
  if (n > words_ - 1) n = words_ - 1;
  return std::vector<uint64_t>(area_ + 1, area_ + 1 + n);
}

remcov_device_stats_t RawDevice::StatsFor(int fd) {
  remcov_device_stats_t s{};
  EXPECT_EQ(remcov_device_stats(fd, &s), REMCOV_OK);
  return s;
}

int RemoteEnableHere(int fd, const std::vector<uint64_t>& handles,
                     uint64_t common, uint32_t area_words, uint32_t mode) {
  std::vector<uint64_t> buf(3 + handles.size());
  auto* ra = reinterpret_cast<remcov_kcov_remote_arg*>(buf.data());
  ra->trace_mode = mode;
  ra->area_size = area_words;
  ra->num_handles = static_cast<uint32_t>(handles.size());
  ra->common_handle = common;
  for (size_t i = 0; i < handles.size(); i++) buf[3 + i] = handles[i];
  return remcov_ioctl(fd, REMCOV_KCOV_REMOTE_ENABLE,
                      reinterpret_cast<unsigned long>(ra)) == 0
             ? 0
             : errno;
}

RemoteOwner::RemoteOwner(int fd, std::vector<uint64_t> handles, uint64_t common,
                         uint32_t area_words, uint32_t mode) {
  thread_ = std::thread([this, fd, handles, common, area_words, mode] {
    const int err = RemoteEnableHere(fd, handles, common, area_words, mode);
    const int r = err == 0 ? 0 : -1;
    EXPECT_EQ(err, 0) << "KCOV_REMOTE_ENABLE: " << strerror(err);
    phase_ = 1;
    while (phase_.load() != 2) {
      if (const std::function<void()>* job = job_.load()) {
        (*job)();
        job_ = nullptr;
      } else {
        std::this_thread::yield();
      }
    }
    if (r == 0) {
      EXPECT_EQ(remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0), 0) << strerror(errno);
    }
  });
  while (phase_.load() != 1) std::this_thread::yield();
}

void RemoteOwner::RunOnOwner(const std::function<void()>& fn) {
  job_ = &fn;
  while (job_.load() != nullptr) std::this_thread::yield();
}

RemoteOwner::~RemoteOwner() {
  phase_ = 2;
  thread_.join();
}

namespace {
std::string LookUpFixtureFunction(uint64_t pc) {
  Dl_info info;
  void* extra = nullptr;
  int found =
      dladdr1(reinterpret_cast<void*>(pc), &info, &extra, RTLD_DL_SYMENT);
  const auto* sym = static_cast<const ElfW(Sym)*>(extra);
  if (found == 0 || info.dli_sname == nullptr || sym == nullptr) return "";
  uint64_t start = reinterpret_cast<uint64_t>(info.dli_saddr);
  if (pc < start || pc >= start + sym->st_size) return "";
  if (strncmp(info.dli_sname, "fixture_", 8) != 0) return "";
  return info.dli_sname;
}
}  // namespace

// Memoized per thread: the storm tests map millions of PCs (a handful of
// distinct ones), and dladdr under ThreadSanitizer made that loop take minutes.
// The fixture is never unloaded, so an answer stays true.
std::string FixtureFunction(uint64_t pc) {
  thread_local std::unordered_map<uint64_t, std::string> names;
  auto it = names.find(pc);
  if (it == names.end())
    it = names.emplace(pc, LookUpFixtureFunction(pc)).first;
  return it->second;
}

std::set<std::string> FixtureFunctions(const std::vector<uint64_t>& pcs) {
  std::set<std::string> out;
  for (uint64_t pc : pcs) {
    std::string f = FixtureFunction(pc);
    if (!f.empty()) out.insert(f);
  }
  return out;
}

uint64_t PcsOf(void (*fn)()) {
  RawDevice d(1 << 14);
  EXPECT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_ENABLE, REMCOV_KCOV_TRACE_PC), 0);
  d.Reset();
  fn();
  EXPECT_EQ(remcov_ioctl(d.fd(), REMCOV_KCOV_DISABLE, 0), 0);
  return d.Count();
}

std::multiset<Rec> RecordsIn(const uint64_t* area, const std::string& fn) {
  std::multiset<Rec> out;
  uint64_t n = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(area[0]))
                   .load(std::memory_order_acquire);
  for (uint64_t i = 0; i < n; i++) {
    const uint64_t* r = area + 1 + 4 * i;
    if (FixtureFunction(r[3]) == fn) out.insert(Rec{r[0], r[1], r[2]});
  }
  return out;
}

std::vector<uint64_t> ParsePcs(const std::string& line) {
  std::istringstream in(line);
  std::string word;
  size_t k = 0;
  in >> word >> k;
  EXPECT_EQ(word, "pcs") << line;
  std::vector<uint64_t> pcs;
  for (size_t i = 0; i < k; i++) {
    std::string hex;
    in >> hex;
    pcs.push_back(strtoull(hex.c_str(), nullptr, 16));
  }
  return pcs;
}

}  // namespace remcov::testing
