// SPDX-License-Identifier: Apache-2.0
#include "test_util.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace remcov::testing {

RawDevice::RawDevice(size_t words) : words_(words) {
  fd_ = remcov_open();
  EXPECT_GE(fd_, 0) << strerror(errno);
  EXPECT_EQ(remcov_ioctl(fd_, REMCOV_KCOV_INIT_TRACE, words), 0) << strerror(errno);
  void* p = remcov_mmap(nullptr, words * sizeof(unsigned long), PROT_READ | PROT_WRITE,
                        MAP_SHARED, fd_, 0);
  EXPECT_NE(p, MAP_FAILED) << strerror(errno);
  area_ = static_cast<uint64_t*>(p);
}

RawDevice::~RawDevice() {
  if (area_ != nullptr && area_ != MAP_FAILED) munmap(area_, words_ * sizeof(unsigned long));
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

std::string FixtureFunction(uint64_t pc) {
  Dl_info info;
  void* extra = nullptr;
  int found = dladdr1(reinterpret_cast<void*>(pc), &info, &extra, RTLD_DL_SYMENT);
  const auto* sym = static_cast<const ElfW(Sym)*>(extra);
  if (found == 0 ||
      info.dli_sname == nullptr || sym == nullptr)
    return "";
  uint64_t start = reinterpret_cast<uint64_t>(info.dli_saddr);
  if (pc < start || pc >= start + sym->st_size) return "";
  if (strncmp(info.dli_sname, "fixture_", 8) != 0) return "";
  return info.dli_sname;
}

std::set<std::string> FixtureFunctions(const std::vector<uint64_t>& pcs) {
  std::set<std::string> out;
  for (uint64_t pc : pcs) {
    std::string f = FixtureFunction(pc);
    if (!f.empty()) out.insert(f);
  }
  return out;
}

std::multiset<Rec> RecordsIn(const uint64_t* area, const std::string& fn) {
  std::multiset<Rec> out;
  uint64_t n = std::atomic_ref<uint64_t>(const_cast<uint64_t&>(area[0])).load(std::memory_order_acquire);
  for (uint64_t i = 0; i < n; i++) {
    const uint64_t* r = area + 1 + 4 * i;
    if (FixtureFunction(r[3]) == fn) out.insert(Rec{r[0], r[1], r[2]});
  }
  return out;
}

}  // namespace remcov::testing
