// SPDX-License-Identifier: Apache-2.0
// remcov across processes: a pre-fork server (a master process and N worker
// processes that accept connections on one listening socket, as Apache's
// prefork or many Python servers do) runs the example service's handlers
// (examples/service), driven by a client process. Each client request owns a
// collector with a handle of its own and sends the handle with the request;
// whichever worker process accepts the connection runs the handler between
// remcov_remote_start(handle) and remcov_remote_stop(), and the coverage
// arrives in the client's collector, as KCOV Remote delivers a kernel
// thread's work to the task that asked for it. Between requests the workers
// run the service's housekeeping (instrumented code outside any section):
// none of it may reach a request.
//
// The client registers its handles before it starts the server, whose
// processes are forked from it: a fork child keeps its parent's handle table
// (docs/kcov.md, difference 7). A server started by an unrelated process is
// not reached.
//
//   remcov_prefork_demo [--workers N] [--cov-dir DIR]
//
// Exits 0 when every request saw exactly its own handler's coverage.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "remcov/collector.h"
#include "remcov/coverage_file.h"
#include "remcov/remcov.h"

#include "demo_support.h"
#include "service_api.h"

namespace {

using remcov_demo::DemoRequest;

// The wire format of a request: the handle, then the request's bytes (one
// SOCK_SEQPACKET message); of a reply: the status and the worker's pid.
struct ReplyWire {
  int32_t status;
  int32_t worker_pid;
};

sockaddr_un ServerAddress() {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  // Abstract namespace: nothing to clean up, unique per client.
  snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "remcov-prefork-%d",
           static_cast<int>(getpid()));
  return a;
}

// ---- the server (master and workers; forked from the client) ----

[[noreturn]] void WorkerLoop(int listen_fd,
                             const remcov_service::ServiceApi& api) {
  uint64_t tick = 0;
  for (;;) {
    api.housekeeping_tick(tick++);  // instrumented, outside any section
    int c = accept(listen_fd, nullptr, nullptr);
    if (c < 0) {
      if (errno == EINTR) continue;
      _exit(3);
    }
    uint8_t buf[4096];
    ssize_t n = recv(c, buf, sizeof buf, 0);
    if (n >= static_cast<ssize_t>(sizeof(uint64_t))) {
      uint64_t handle;
      memcpy(&handle, buf, sizeof handle);
      remcov_remote_start(handle);
      const int status =
          api.handle(buf + sizeof handle, static_cast<size_t>(n) - 8);
      remcov_remote_stop();  // the coverage is in the client's area now
      ReplyWire r{status, static_cast<int32_t>(getpid())};
      (void)!send(c, &r, sizeof r, MSG_NOSIGNAL);
    }
    close(c);
    api.housekeeping_tick(tick++);
    usleep(20 * 1000);  // per-request cleanup: the other workers take turns
  }
}

// Forks the master, which forks `workers` workers and waits. Returns the
// master's pid; the listening socket is bound before this returns.
pid_t StartServer(unsigned workers) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un a = ServerAddress();
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      listen(fd, 64) != 0) {
    perror("prefork demo: listening socket");
    exit(1);
  }
  const pid_t client = getpid();
  pid_t master = fork();
  if (master != 0) {
    close(fd);
    return master;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != client) _exit(1);
  std::vector<pid_t> kids;
  for (unsigned i = 0; i < workers; i++) {
    pid_t w = fork();
    if (w == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      WorkerLoop(fd, *svc_trace_api());
    }
    kids.push_back(w);
  }
  // The master: waits for SIGTERM, then ends its workers.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  for (pid_t w : kids) kill(w, SIGKILL);
  for (pid_t w : kids) waitpid(w, nullptr, 0);
  _exit(0);
}

// ---- the client ----

struct Result : remcov_demo::RequestCoverage {
  std::string error;
  int status = 0;
  int worker = 0;
};

// One request's collector, owned by its own thread (a thread owns at most one
// device, as a kernel task does).
class RequestClient {
 public:
  RequestClient(const DemoRequest& req, uint64_t handle, Result* r)
      : req_(req), handle_(handle), r_(r) {
    thread_ = std::thread([this] { Run(); });
    while (!registered_.load()) std::this_thread::yield();
  }
  void Go() { go_ = true; }
  void Join() { thread_.join(); }

 private:
  void Run() {
    auto col = remcov::Collector::Open(remcov::RuntimeBackend(), 1 << 14);
    if (!col.ok()) return Fail(col.status().ToString());
    remcov::RemoteOptions opt;
    opt.handles = {handle_};
    if (auto s = col->EnableRemote(opt); !s.ok()) return Fail(s.ToString());
    registered_ = true;
    while (!go_.load()) std::this_thread::yield();
    Send();
    static_cast<remcov_demo::RequestCoverage&>(*r_) =
        remcov_demo::TakeCoverage(*col);
  }
  void Send() {
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un a = ServerAddress();
    if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      r_->error = std::string("connect: ") + strerror(errno);
      if (s >= 0) close(s);
      return;
    }
    std::string msg(sizeof handle_, '\0');
    memcpy(msg.data(), &handle_, sizeof handle_);
    msg += req_.line;
    ReplyWire reply{};
    if (send(s, msg.data(), msg.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(msg.size()) ||
        recv(s, &reply, sizeof reply, 0) != sizeof reply) {
      r_->error = std::string("request: ") + strerror(errno);
    } else {
      r_->status = reply.status;
      r_->worker = reply.worker_pid;
    }
    close(s);
  }
  void Fail(const std::string& e) {
    r_->error = e;
    registered_ = true;
  }

  const DemoRequest& req_;
  const uint64_t handle_;
  Result* r_;
  std::atomic<bool> registered_{false}, go_{false};
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  unsigned workers = 3;
  std::string cov_dir;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
      workers = static_cast<unsigned>(atoi(argv[++i]));
    } else if (strcmp(argv[i], "--cov-dir") == 0 && i + 1 < argc) {
      cov_dir = argv[++i];
    } else {
      fprintf(stderr,
              "usage: remcov_prefork_demo [--workers N] [--cov-dir DIR]\n");
      return 2;
    }
  }
  if (workers < 1) workers = 1;
  const std::vector<DemoRequest> requests = remcov_demo::DemoRequests();
  std::vector<Result> results(requests.size());
  // Every request's collector is registered before the server is forked.
  std::vector<std::unique_ptr<RequestClient>> clients;
  for (size_t i = 0; i < requests.size(); i++)
    clients.push_back(std::make_unique<RequestClient>(
        requests[i],
        remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB,
                                  0x5000 + static_cast<uint32_t>(i)),
        &results[i]));
  const pid_t master = StartServer(workers);
  for (auto& c : clients) c->Go();  // all at once: the workers share them
  for (auto& c : clients) c->Join();
  kill(master, SIGTERM);
  int master_status = 0;
  waitpid(master, &master_status, 0);

  printf(
      "remcov pre-fork demo: %zu concurrent requests from the client process "
      "(pid %d), each with its own collector;\nhandled by %u worker processes "
      "of a pre-fork server, which run housekeeping between requests.\n\n",
      requests.size(), static_cast<int>(getpid()), workers);
  int failures = 0;
  std::set<int> worker_pids;
  std::vector<remcov::CoverageModule> load_map;
  if (!cov_dir.empty()) load_map = remcov::CurrentLoadMap();
  for (size_t i = 0; i < requests.size(); i++) {
    const DemoRequest& req = requests[i];
    const Result& r = results[i];
    if (!r.error.empty()) {
      printf("%-20s ERROR %s\n", req.label, r.error.c_str());
      failures++;
      continue;
    }
    worker_pids.insert(r.worker);
    std::set<uint64_t> unique(r.pcs.begin(), r.pcs.end());
    printf("%-20s -> %d  worker pid %d  %3zu PCs, %3zu unique%s%s\n", req.label,
           r.status, r.worker, r.pcs.size(), unique.size(),
           r.dropped ? "  [overflow counted]" : "",
           r.status >= remcov_service::kBugBase ? "  <- planted bug" : "");
    failures += remcov_demo::PrintAndCheckFunctions(req, r.functions);
    if (r.pcs.empty()) failures++;
    if (!cov_dir.empty() &&
        !remcov_demo::WriteRequestCoverage(cov_dir + "/" + req.label + ".cov",
                                           r.pcs, r.dropped, load_map))
      failures++;
  }
  if (!WIFEXITED(master_status) || WEXITSTATUS(master_status) != 0) {
    printf("the server's master did not end cleanly\n");
    failures++;
  }
  printf("\n%zu worker processes handled requests\n", worker_pids.size());
  if (!cov_dir.empty())
    printf(
        "coverage files: %s/<request>.cov (the workers' code is the "
        "client's binary)\n",
        cov_dir.c_str());
  printf(failures ? "prefork demo: FAILED\n"
                  : "prefork demo: every request saw only its own handler's "
                    "coverage, from whichever worker process ran it\n");
  return failures ? 1 : 0;
}
