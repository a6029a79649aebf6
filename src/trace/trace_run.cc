// SPDX-License-Identifier: Apache-2.0
// The `remcov trace` flow (trace_run.h): the kernel, remote and in-process
// sources behind one Prepare/Run pair.
#include "trace/trace_run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <set>
#include <utility>

#include "remcov/collector.h"
#include "remcov/pc_set.h"

#include "area/area_layout.h"
#include "base/spawn.h"
#include "handoff/handoff.h"
#include "handoff/handoff_writer.h"
#include "kernel_client/kernel_load_map.h"

namespace remcov::trace {
namespace {

uint64_t PageBytes() { return static_cast<uint64_t>(sysconf(_SC_PAGESIZE)); }

void SleepMs(uint64_t ms) {
  struct timespec ts = {static_cast<time_t>(ms / 1000),
                        static_cast<long>((ms % 1000) * 1000000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// Copies a Collector's published coverage (acquire load, clamped) into d.
void Collect(const Collector& c, TraceMode mode, CoverageData* d) {
  d->mode = mode;
  d->word_bytes = c.backend().WordBytes();
  d->raw_count = c.RawCount();
  const uint64_t cap = c.Capacity(mode);
  if (mode == TraceMode::kPc) {
    auto v = c.Pcs();
    d->pcs.assign(v.begin(), v.end());
  } else {
    for (const CmpRecord& r : c.Cmps())
      if (r.valid()) d->cmps.push_back(r);
  }
  // The kernel stops storing at capacity without counting the rest.
  if (d->raw_count >= cap) d->flags |= kCoverageOverflow;
  if (d->raw_count > cap) d->dropped = d->raw_count - cap;
}

// The command's exit code: its exit status, or 128+N when signal N ended
// it; -1 when it cannot be waited for.
int WaitChild(pid_t pid) {
  StatusOr<int> ws = internal::WaitExit(pid);
  return ws.ok() ? internal::ShellExitCode(*ws) : -1;
}

}  // namespace

uint64_t MaxWords() {
  const uint64_t page_words = PageBytes() / 8;
  return (uint64_t{INT_MAX} / 8) / page_words * page_words;
}

uint64_t PageWords(uint64_t words) {
  return remcov_area_bytes(words, PageBytes()) / 8;
}

struct TraceRun::Impl {
  TraceOptions o;
  std::vector<char*> argv;  // into o.command, null-terminated
  bool ran = false;

  // Kernel and remote.
  std::optional<KernelBackend> kernel;
  std::optional<Collector> collector;

  // In-process: the hand-off file, mapped.
  handoff::FileLayout layout;
  int fd = -1;
  void* map = MAP_FAILED;

  ~Impl() {
    if (map != MAP_FAILED) munmap(map, static_cast<size_t>(layout.file_bytes));
    if (fd >= 0) close(fd);
  }

  Sys& sys() { return o.sys != nullptr ? *o.sys : RealSys(); }

  // Runs the command; pre_exec runs in the child. On success *pid is the
  // child's; exec failures go to *result.
  Status Spawn(const std::function<int()>& pre_exec, pid_t* pid,
               TraceResult* result) {
    StatusOr<internal::Spawned> s = internal::Spawn(argv.data(), pre_exec);
    if (!s.ok()) return s.status();
    *pid = s->pid;
    switch (s->failed) {
      case internal::Spawned::Failed::kNo:
        return Status::Ok();
      case internal::Spawned::Failed::kExec:
        result->exec_error = s->error;
        return Status::Ok();
      case internal::Spawned::Failed::kPreExec:
        break;
    }
    const std::string why = kernel.has_value()
                                ? kernel->Explain("KCOV_ENABLE", s->error)
                                : std::string("enabling coverage failed");
    return Status::FromErrno(s->error, why);
  }

  Status PrepareKernel() {
    kernel.emplace(sys(), KernelBackendOptions{.device_path = o.device,
                                               .user_word_bytes = 0});
    StatusOr<Collector> c = Collector::Open(*kernel, o.words);
    if (!c.ok()) return c.status();
    collector.emplace(std::move(c.value()));
    if (o.source != TraceSource::kRemote) return Status::Ok();
    RemoteOptions r;
    r.mode = o.mode;
    const uint64_t id = o.common_id.value_or(static_cast<uint64_t>(getpid()));
    r.common_handle =
        remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_COMMON, id);
    for (uint64_t b : o.usb_buses)
      r.handles.push_back(
          remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB, b));
    // The child inherits the common handle at fork (kernel: kcov_task_init).
    return collector->EnableRemote(r);
  }

  StatusOr<TraceResult> RunKernel() {
    const bool remote = o.source == TraceSource::kRemote;
    TraceResult result;
    Collector* col = &collector.value();
    const TraceMode mode = o.mode;
    std::function<int()> enable;
    if (!remote) {
      enable = [col, mode]() -> int {
        // KCOV_ENABLE binds the device to this (child) task; exec keeps it.
        Status s = col->Enable(mode);
        return s.ok() ? 0 : (s.error_number() != 0 ? s.error_number() : EINVAL);
      };
    }
    pid_t pid = -1;
    REMCOV_RETURN_IF_ERROR(Spawn(enable, &pid, &result));
    if (result.exec_error != 0) return result;
    result.exit_code = WaitChild(pid);
    if (remote) {
      // Remote sections may still be running.
      (void)WaitUntilQuiet([col] { return col->RawCount(); }, o.settle_ms,
                           SleepMs);
    }
    Status v = col->Validate(mode);
    if (!v.ok() && v.code() == StatusCode::kDataLoss && mode == TraceMode::kCmp)
      result.validate_warning = v;
    if (remote) result.data.flags |= kCoverageRemote;
    Collect(*col, mode, &result.data);
    if (o.kernel_load_map) {
      KernelLoadMapResult m = KernelLoadMap(sys(), result.data.word_bytes);
      result.hidden_module_addresses = m.hidden_addresses;
      result.data.modules = std::move(m.modules);
    }
    if (remote) result.disable_warning = col->Disable();
    return result;
  }

  Status PrepareInProcess() {
    if (o.max_processes == 0 || o.max_processes > REMCOV_HANDOFF_MAX_PROCS)
      return Status(StatusCode::kInvalidArgument,
                    "the number of process slots must be 1 to " +
                        std::to_string(REMCOV_HANDOFF_MAX_PROCS));
    layout = handoff::FileLayoutFor(o.words, o.max_processes, PageBytes());
    const size_t map_bytes = static_cast<size_t>(layout.file_bytes);
    fd = memfd_create("remcov-trace", 0);  // inherited by the command
    if (fd < 0) return Status::FromErrno(errno, "memfd_create");
    if (ftruncate(fd, static_cast<off_t>(map_bytes)) != 0)
      return Status::FromErrno(errno, "sizing the coverage hand-off");
    // Writable for the table (written here before the command starts, and
    // the root pid by the command's process); the rest is only read.
    map = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
      return Status::FromErrno(errno, "mapping the coverage hand-off");
    handoff::WriteTable(static_cast<uint64_t*>(map), layout.procs,
                        layout.slot.slot_bytes, layout.slot.words,
                        o.mode == TraceMode::kCmp ? REMCOV_KCOV_TRACE_CMP
                                                  : REMCOV_KCOV_TRACE_PC,
                        o.follow, o.threads);
    return Status::Ok();
  }

  StatusOr<TraceResult> RunInProcess() {
    TraceResult result;
    uint64_t* table = static_cast<uint64_t*>(map);
    const std::string fds = std::to_string(fd);
    pid_t pid = -1;
    Status s = Spawn(
        [table, &fds]() -> int {
          // The command's own process: a trace that does not follow
          // children traces this pid only.
          table[REMCOV_HANDOFF_T_ROOT_PID] = static_cast<uint64_t>(getpid());
          if (setenv(REMCOV_HANDOFF_ENV_FD, fds.c_str(), 1) != 0) return errno;
          return 0;
        },
        &pid, &result);
    close(fd);  // the mapping keeps the pages
    fd = -1;
    REMCOV_RETURN_IF_ERROR(s);
    if (result.exec_error != 0) return result;
    result.exit_code = WaitChild(pid);
    result.read_status =
        handoff::ReadAll(layout, table, &result.data, &result.notes);
    if (!result.read_status.ok()) result.data = CoverageData{};
    return result;
  }
};

TraceRun::TraceRun(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceRun::TraceRun(TraceRun&&) noexcept = default;
TraceRun& TraceRun::operator=(TraceRun&&) noexcept = default;
TraceRun::~TraceRun() = default;

StatusOr<TraceRun> TraceRun::Prepare(TraceOptions options) {
  if (options.command.empty())
    return Status(StatusCode::kInvalidArgument, "no command to run");
  if (options.words < 2 || options.words > MaxWords())
    return Status(
        StatusCode::kInvalidArgument,
        "the area size must be 2 to " + std::to_string(MaxWords()) + " words");
  auto impl = std::make_unique<Impl>();
  impl->o = std::move(options);
  for (std::string& a : impl->o.command) impl->argv.push_back(a.data());
  impl->argv.push_back(nullptr);
  Status s = impl->o.source == TraceSource::kInProcess
                 ? impl->PrepareInProcess()
                 : impl->PrepareKernel();
  if (!s.ok()) return s;
  return TraceRun(std::move(impl));
}

StatusOr<TraceResult> TraceRun::Run() {
  if (impl_ == nullptr || impl_->ran)
    return Status(StatusCode::kFailedPrecondition, "the trace already ran");
  impl_->ran = true;
  return impl_->o.source == TraceSource::kInProcess ? impl_->RunInProcess()
                                                    : impl_->RunKernel();
}

uint64_t WaitUntilQuiet(const std::function<uint64_t()>& count,
                        uint64_t quiet_ms,
                        const std::function<void(uint64_t)>& sleep_ms,
                        uint64_t step_ms) {
  if (step_ms == 0) step_ms = 1;
  uint64_t last = count();
  uint64_t quiet = 0;
  uint64_t slept = 0;
  while (quiet < quiet_ms) {
    const uint64_t step =
        quiet_ms - quiet < step_ms ? quiet_ms - quiet : step_ms;
    sleep_ms(step);
    slept += step;
    const uint64_t now = count();
    quiet = now == last ? quiet + step : 0;
    last = now;
  }
  return slept;
}

void KeepFirstOccurrences(CoverageData* d) {
  d->flags |= kCoverageUnique;
  if (d->processes.empty() && d->mode == TraceMode::kPc) {
    PcSet unique;
    for (uint64_t pc : d->pcs) unique.Insert(pc);
    d->pcs = unique.values();
    return;
  }
  // Within each process: its PCs resolve through its own load map.
  std::vector<uint64_t> pcs;
  std::vector<CmpRecord> cmps;
  for (const ProcessRange& pr : ProcessRanges(*d)) {
    PcSet seen_pcs;
    std::set<std::array<uint64_t, 4>> seen;
    uint64_t kept = 0;
    for (size_t e = pr.entry_begin; e < pr.entry_end; e++) {
      if (d->mode == TraceMode::kPc) {
        if (!seen_pcs.Insert(d->pcs[e])) continue;
        pcs.push_back(d->pcs[e]);
      } else {
        const CmpRecord& r = d->cmps[e];
        if (!seen.insert({r.type, r.arg1, r.arg2, r.ip}).second) continue;
        cmps.push_back(r);
      }
      kept++;
    }
    if (!d->processes.empty()) d->processes[pr.process].entries = kept;
  }
  d->pcs = std::move(pcs);
  d->cmps = std::move(cmps);
}

Status CheckWritable(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  const bool created = fd >= 0;
  if (fd < 0 && errno == EEXIST)
    fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::FromErrno(errno, "cannot write " + path);
  close(fd);
  if (created) unlink(path.c_str());
  return Status::Ok();
}

}  // namespace remcov::trace
