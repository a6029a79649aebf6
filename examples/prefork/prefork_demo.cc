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
// Two ways to reach the server's processes:
// - by default the client registers its handles and then forks the server: a
//   fork child keeps its parent's handle table (docs/kcov.md, difference 7);
// - with --domain the server is another program image, started (posix_spawn
//   of this binary) before any registration, with REMCOV_DOMAIN in its
//   environment; the client joins the same domain and registers afterwards,
//   and the workers find its handles there (docs/design.md, "Domains").
//
//   remcov_prefork_demo [--workers N] [--cov-dir DIR] [--domain]
//
// Exits 0 when every request saw exactly its own handler's coverage.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

extern char** environ;

namespace {

using remcov_demo::DemoRequest;

// The wire format of a request: the handle, then the request's bytes (one
// SOCK_SEQPACKET message); of a reply: the status, the worker's pid and its
// main program's load bias (the coverage's PCs are addresses in the worker).
struct ReplyWire {
  int32_t status;
  int32_t worker_pid;
  uint64_t load_bias;
};

// The client's server address. Abstract namespace: nothing to clean up,
// unique per client.
sockaddr_un ServerAddress(pid_t client) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "remcov-prefork-%d",
           static_cast<int>(client));
  return a;
}
sockaddr_un ServerAddress() { return ServerAddress(getpid()); }

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
      ReplyWire r{status, static_cast<int32_t>(getpid()),
                  remcov_demo::MainLoadBias()};
      (void)!send(c, &r, sizeof r, MSG_NOSIGNAL);
    }
    close(c);
    api.housekeeping_tick(tick++);
    usleep(20 * 1000);  // per-request cleanup: the other workers take turns
  }
}

// The listening socket at the client's address.
int Listen(pid_t client) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un a = ServerAddress(client);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      listen(fd, 64) != 0) {
    perror("prefork demo: listening socket");
    exit(1);
  }
  return fd;
}

[[noreturn]] void Master(int fd, unsigned workers);

// Forks the master, which forks `workers` workers and waits. Returns the
// master's pid; the listening socket is bound before this returns.
pid_t StartServer(unsigned workers) {
  const pid_t client = getpid();
  const int fd = Listen(client);
  pid_t master = fork();
  if (master != 0) {
    close(fd);
    return master;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != client) _exit(1);
  Master(fd, workers);
}

// --domain: starts this binary as the server's master (`--serve-for CLIENT
// WORKERS`, its standard output a pipe it writes a byte to once listening),
// in the domain `domain`. Returns the master's pid once it listens.
pid_t SpawnServer(unsigned workers, const std::string& domain) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    perror("prefork demo: pipe");
    exit(1);
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, ready[1], 1);
  std::vector<std::string> env_s = {std::string(REMCOV_DOMAIN_ENV) + "=" +
                                    domain};
  for (char** e = environ; *e != nullptr; e++)
    if (strncmp(*e, REMCOV_DOMAIN_ENV "=", strlen(REMCOV_DOMAIN_ENV) + 1) != 0)
      env_s.push_back(*e);
  std::vector<std::string> argv_s = {"remcov_prefork_demo", "--serve-for",
                                     std::to_string(getpid()),
                                     std::to_string(workers)};
  std::vector<char*> env, argv;
  for (auto& e : env_s) env.push_back(e.data());
  for (auto& a : argv_s) argv.push_back(a.data());
  env.push_back(nullptr);
  argv.push_back(nullptr);
  pid_t master = -1;
  const int err = posix_spawn(&master, "/proc/self/exe", &fa, nullptr,
                              argv.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  close(ready[1]);
  char c = 0;
  if (err != 0 || read(ready[0], &c, 1) != 1) {
    fprintf(stderr, "prefork demo: the server did not start: %s\n",
            strerror(err));
    exit(1);
  }
  close(ready[0]);
  return master;
}

// The master: forks `workers` workers, waits for SIGTERM, then ends them.
[[noreturn]] void Master(int fd, unsigned workers) {
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
  uint64_t worker_bias = 0;
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
    // A forked worker shares this process's layout (rebase 0); an exec'd
    // one has a load address of its own.
    static_cast<remcov_demo::RequestCoverage&>(*r_) = remcov_demo::TakeCoverage(
        *col, remcov_demo::MainLoadBias() - r_->worker_bias);
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
      r_->worker_bias = reply.load_bias;
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
  // The server's master in --domain mode (SpawnServer).
  if (argc == 4 && strcmp(argv[1], "--serve-for") == 0) {
    const int fd = Listen(static_cast<pid_t>(atoi(argv[2])));
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    (void)!write(1, "r", 1);
    close(1);
    Master(fd, static_cast<unsigned>(atoi(argv[3])));
  }
  unsigned workers = 3;
  bool use_domain = false;
  std::string cov_dir;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--domain") == 0) {
      use_domain = true;
    } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
      workers = static_cast<unsigned>(atoi(argv[++i]));
    } else if (strcmp(argv[i], "--cov-dir") == 0 && i + 1 < argc) {
      cov_dir = argv[++i];
    } else {
      fprintf(stderr,
              "usage: remcov_prefork_demo [--workers N] [--cov-dir DIR] "
              "[--domain]\n");
      return 2;
    }
  }
  if (workers < 1) workers = 1;
  // --domain: the server runs in another program image, in a domain this
  // process joins; it is started before any handle is registered.
  pid_t master = -1;
  std::string domain_dir;
  if (use_domain) {
    char dir[] = "/tmp/remcov-prefork.XXXXXX";
    if (mkdtemp(dir) == nullptr) {
      perror("prefork demo: mkdtemp");
      return 1;
    }
    domain_dir = dir;
    const std::string domain = domain_dir + "/domain";
    if (remcov_domain_join(domain.c_str()) != REMCOV_OK) {
      fprintf(stderr, "prefork demo: cannot join %s: %s\n", domain.c_str(),
              strerror(errno));
      return 1;
    }
    master = SpawnServer(workers, domain);
  }
  const std::vector<DemoRequest> requests = remcov_demo::DemoRequests();
  std::vector<Result> results(requests.size());
  // Every request's collector is registered before the server is forked
  // (without --domain: the workers inherit the registrations) or after it
  // started (with --domain: they find them in the domain).
  std::vector<std::unique_ptr<RequestClient>> clients;
  for (size_t i = 0; i < requests.size(); i++)
    clients.push_back(std::make_unique<RequestClient>(
        requests[i],
        remcov_kcov_remote_handle(REMCOV_KCOV_SUBSYSTEM_USB,
                                  0x5000 + static_cast<uint32_t>(i)),
        &results[i]));
  if (!use_domain) master = StartServer(workers);
  for (auto& c : clients) c->Go();  // all at once: the workers share them
  for (auto& c : clients) c->Join();
  kill(master, SIGTERM);
  int master_status = 0;
  waitpid(master, &master_status, 0);
  if (!domain_dir.empty()) {
    unlink((domain_dir + "/domain").c_str());
    rmdir(domain_dir.c_str());
  }

  printf(
      "remcov pre-fork demo: %zu concurrent requests from the client process "
      "(pid %d), each with its own collector;\nhandled by %u worker processes "
      "of a pre-fork server, which run housekeeping between requests%s.\n\n",
      requests.size(), static_cast<int>(getpid()), workers,
      use_domain ? ";\nthe server is another program, started before the "
                   "client registered its handles, in the client's domain"
                 : "");
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
