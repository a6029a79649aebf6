// SPDX-License-Identifier: Apache-2.0
//
// kcov_conformance: runs the KCOV call-sequence catalogue (catalogue.h) against
// the real kernel's /sys/kernel/debug/kcov, inside the test VM.
//
//   kcov_conformance [--filter SUBSTR] [--device PATH] [--require-module]
//                    [--list]
//
// Output (stdout, one line each):
//   STEP ... / CASE ...               the catalogue transcript
//   REMCOV-RESULT kcov/<case> PASS|FAIL|SKIP <detail>
// Exit status: 0 when no case failed, 1 otherwise, 2 on usage errors.
//
// Remote-section cases use the test module remcov_kmod (kernel/module/) through
// /sys/kernel/debug/remcov_kmod/{ctl,targets,common_handle}; without it they
// are SKIPped, or FAIL with --require-module.
//
// Built with g++ -std=c++20 -static; depends only on include/remcov/kcov_abi.h.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "catalogue.h"

namespace {

const char* g_device = "/sys/kernel/debug/kcov";
const char* kModDir = "/sys/kernel/debug/remcov_kmod";

int KernelOpen() { return ::open(g_device, O_RDWR | O_CLOEXEC); }
int KernelIoctl(int fd, unsigned long cmd, unsigned long arg) {
  return static_cast<int>(::syscall(SYS_ioctl, fd, cmd, arg));
}
void* KernelMmap(void* addr, size_t len, int prot, int flags, int fd,
                 off_t off) {
  return ::mmap(addr, len, prot, flags, fd, off);
}
int KernelClose(int fd) { return ::close(fd); }

// Kernel work in the calling thread: path walks, uname, getppid.
void KernelExercise(unsigned rounds) {
  for (unsigned i = 0; i < rounds; i++) {
    struct utsname u;
    ::syscall(SYS_uname, &u);
    ::syscall(SYS_getppid);
    int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buf[256];
      (void)!::read(fd, buf, sizeof(buf));
      ::close(fd);
    }
  }
}

std::string ReadFile(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0)
    out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

struct Target {
  char letter;
  uint64_t start, end;
};
std::vector<Target> g_targets;

// Reads the module's target table; sizes of 0 are completed from
// /proc/kallsyms.
bool LoadTargets() {
  std::string txt = ReadFile(std::string(kModDir) + "/targets");
  if (txt.empty()) return false;
  std::vector<uint64_t> kallsyms;
  size_t pos = 0;
  while (pos < txt.size()) {
    size_t eol = txt.find('\n', pos);
    if (eol == std::string::npos) eol = txt.size();
    std::string line = txt.substr(pos, eol - pos);
    pos = eol + 1;
    char name[128];
    unsigned long long addr = 0, size = 0;
    if (sscanf(line.c_str(), "%127s %llx %llx", name, &addr, &size) != 3)
      continue;
    std::string n(name);
    const std::string prefix = "remcov_kmod_target_";
    if (n.rfind(prefix, 0) != 0 || n.size() != prefix.size() + 1) continue;
    if (size == 0) {
      if (kallsyms.empty()) {
        std::string ks = ReadFile("/proc/kallsyms");
        size_t p = 0;
        while (p < ks.size()) {
          size_t e = ks.find('\n', p);
          if (e == std::string::npos) e = ks.size();
          kallsyms.push_back(strtoull(ks.c_str() + p, nullptr, 16));
          p = e + 1;
        }
        std::sort(kallsyms.begin(), kallsyms.end());
      }
      auto it = std::upper_bound(kallsyms.begin(), kallsyms.end(), addr);
      size = it == kallsyms.end() ? 256 : *it - addr;
    }
    g_targets.push_back({n.back(), addr, addr + size});
    printf("TARGET %s 0x%llx 0x%llx\n", name, addr, size);
  }
  return !g_targets.empty();
}

bool KernelPcInTarget(uint64_t pc, char target) {
  for (const Target& t : g_targets)
    if (t.letter == target && pc >= t.start && pc < t.end) return true;
  return false;
}

int KernelRemoteTrigger(const char* context, const char* handle) {
  int fd =
      ::open((std::string(kModDir) + "/ctl").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::string cmd = std::string(context) + " " + handle;
  ssize_t n = ::write(fd, cmd.data(), cmd.size());
  int e = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(cmd.size())) {
    errno = n < 0 ? e : EIO;
    return -1;
  }
  return 0;
}

uint64_t KernelCommonHandle() {
  std::string s = ReadFile(std::string(kModDir) + "/common_handle");
  return strtoull(s.c_str(), nullptr, 16);
}

void PrintLine(const std::string& line, void*) {
  fputs(line.c_str(), stdout);
  fputc('\n', stdout);
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const char* filter = nullptr;
  bool require_module = false;
  // The exec cases' new image (catalogue.h, RunExecChild): no output.
  const bool exec_child =
      argc > 1 && strcmp(argv[1], remcov_catalogue::kExecChildArg) == 0;
  for (int i = 1; i < argc && !exec_child; i++) {
    std::string a = argv[i];
    if (a == "--filter" && i + 1 < argc) {
      filter = argv[++i];
    } else if (a == "--device" && i + 1 < argc) {
      g_device = argv[++i];
    } else if (a == "--require-module") {
      require_module = true;
    } else if (a == "--list") {
      for (const auto& n : remcov_catalogue::CaseNames())
        printf("%s\n", n.c_str());
      return 0;
    } else {
      fprintf(
          stderr,
          "usage: %s [--filter S] [--device P] [--require-module] [--list]\n",
          argv[0]);
      return 2;
    }
  }
  if (!exec_child) setvbuf(stdout, nullptr, _IOLBF, 0);

  remcov_catalogue::KcovBackend backend{KernelOpen, KernelIoctl, KernelMmap,
                                        KernelClose};
  remcov_catalogue::CatalogueHooks hooks;
  hooks.backend_name = "linux-kernel";
  hooks.exercise = KernelExercise;
  hooks.supports_fork = true;
  hooks.devices_survive_fork = true;
  hooks.supports_exec = true;
  hooks.case_timeout_s = 60;  // TCG is slow
  int failures = 0;
  if (exec_child) {
    if (LoadTargets()) {
      hooks.remote_trigger = KernelRemoteTrigger;
      hooks.common_handle = KernelCommonHandle;
    }
    return remcov_catalogue::RunExecChild(backend, hooks, argc, argv);
  }

  if (::access(g_device, R_OK | W_OK) != 0) {
    printf("REMCOV-RESULT kcov/device FAIL %s: %s\n", g_device,
           strerror(errno));
    return 1;
  }
  if (LoadTargets()) {
    hooks.remote_trigger = KernelRemoteTrigger;
    hooks.pc_in_target = KernelPcInTarget;
    hooks.common_handle = KernelCommonHandle;
    printf("REMCOV-RESULT kcov/module_targets PASS %zu targets\n",
           g_targets.size());
  } else if (require_module) {
    printf("REMCOV-RESULT kcov/module_targets FAIL %s/targets unreadable\n",
           kModDir);
    failures++;
  } else {
    printf("REMCOV-RESULT kcov/module_targets SKIP remcov_kmod not loaded\n");
  }

  printf("BACKEND %s\n", hooks.backend_name);
  auto results = remcov_catalogue::RunCatalogue(backend, hooks, PrintLine,
                                                nullptr, filter);
  for (const auto& r : results) {
    printf("REMCOV-RESULT kcov/%s %s %s\n", r.name.c_str(),
           remcov_catalogue::StatusName(r.status), r.detail.c_str());
    if (r.status == remcov_catalogue::Status::kFail) failures++;
  }
  printf("SUMMARY cases=%zu failures=%d\n", results.size(), failures);
  fflush(stdout);
  return failures ? 1 : 0;
}
