// SPDX-License-Identifier: Apache-2.0
// Domains: remote handles reachable from processes that did not fork from the
// collector (the kernel's handle table is system-wide: kernel/kcov.c,
// kcov_remote_add and kcov_remote_find under kcov_remote_lock). A domain is a
// file holding a shared handle table; every process that joins it (the
// REMCOV_DOMAIN environment variable, remcov_domain_join, or a descriptor
// given with remcov_domain_join_fd) publishes its registrations there and
// finds the others'. docs/design.md, "Domains", gives the protocol and the
// trust model.
//
// The table: open addressing over kDomainSlots entries (open_table.h), keys
// written with a robust, process-shared mutex held and read lock-free; each
// entry's fields are guarded by a sequence word (odd while written), so a
// reader takes a consistent snapshot or none. Everything a reader takes from
// the file is validated before use: a corrupt or malicious member can make
// lookups miss, never crash or hang the reader.
#ifndef REMCOV_RUNTIME_DOMAIN_H_
#define REMCOV_RUNTIME_DOMAIN_H_

#include <pthread.h>
#include <stdint.h>

#include <atomic>

namespace remcov::internal {

inline constexpr char kDomainMagic[8] = {'R', 'C', 'D', 'O',
                                         'M', 'A', 'I', 'N'};
inline constexpr uint32_t kDomainVersion = 1;
inline constexpr uint32_t kDomainSlots = 1u << 12;

// One registration, as published: the registering process (pid and start
// time, so a reused pid is not taken for it), its own descriptor for the
// device (another process opens /proc/PID/fd/FD), the device file's identity,
// and the binding a section needs (the device's epoch at registration, the
// trace mode and, for counters modes, the map's log2 size, and the size of
// a section's private area).
struct DomainRecord {
  int32_t pid = 0;
  int32_t fd = -1;
  uint64_t start = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t epoch = 0;
  uint32_t mode = 0;
  uint32_t map_bits = 0;
  uint32_t words = 0;  // a section's private area (Device::section_words)
};

struct alignas(64) DomainEntry {
  std::atomic<uint64_t> key;       // the handle; 0 empty, kTableTomb removed
  std::atomic<uint32_t> sequence;  // odd while the fields below are written
  std::atomic<uint32_t> epoch;
  std::atomic<int32_t> pid;
  std::atomic<int32_t> fd;
  std::atomic<uint64_t> start;
  std::atomic<uint64_t> dev;
  std::atomic<uint64_t> ino;
  std::atomic<uint32_t> mode;  // trace mode | map_bits << 8
  std::atomic<uint32_t> words;
};
static_assert(sizeof(DomainEntry) == 64);

struct DomainFile {
  char magic[8];  // kDomainMagic, written last at creation
  uint32_t version;
  uint32_t slots;      // kDomainSlots
  pthread_mutex_t mu;  // robust, process-shared: orders writers
  uint32_t live;       // guarded by mu
  alignas(4096) DomainEntry entries[kDomainSlots];
};
static_assert(sizeof(DomainFile) == 4096 + kDomainSlots * sizeof(DomainEntry));
static_assert(std::atomic<uint64_t>::is_always_lock_free);

// The environment entry that carries a common handle across exec (kernel:
// exec keeps the task and its kcov_handle): "HANDLE:PID:FD:START:DEV:INO:
// EPOCH:MODE:BITS:WORDS", the handle and the registration it names, in
// C notation (FormatInheritedHandle). The runtime writes it into a fork
// child's environment when the forking thread has a common handle (and
// removes it when it has none), and sets it the same way in the environment
// every exec and spawn call passes (interpose_exec.cc), so whatever a
// process starts, directly or through an uninstrumented shell, finds it
// exactly when the starting thread has a handle; the new image's main thread
// takes the handle and its sections reach the registration as a domain
// member's do (docs/kcov.md, difference 7).
inline constexpr char kInheritedHandleEnv[] = "REMCOV_COMMON_HANDLE";
// Room for the entry's value: ten 64-bit decimals, nine colons, the NUL.
inline constexpr size_t kInheritedHandleTextMax = 10 * 20 + 9 + 1;
// Writes the entry's value into buf (n bytes; kInheritedHandleTextMax
// suffice): its length, or 0 when it does not fit.
size_t FormatInheritedHandle(uint64_t handle, const DomainRecord& r, char* buf,
                             size_t n);
// Parses and validates a value FormatInheritedHandle wrote.
bool ParseInheritedHandle(const char* text, uint64_t* handle, DomainRecord* r);
// Whether a record read from outside the process (the domain's table, the
// environment) may be used: a known mode, a positive pid, a descriptor in
// range, an area size remcov_remote_start could allocate.
bool ValidRecord(const DomainRecord& r);

// Whether a section whose handle has no registration in the process's map
// must look further (a domain is joined, or a common handle came across
// exec): the miss path of every remote section asks, so it is one load.
// Hidden: one load from the section's miss path, not a GOT load and a load.
extern std::atomic<bool> g_remote_lookaside
    __attribute__((visibility("hidden")));
inline bool RemoteLookaside() {
  return g_remote_lookaside.load(std::memory_order_relaxed);
}

// Joins the domain REMCOV_DOMAIN names, once per image (later calls do
// nothing); a constructor calls it, and so does every constructor that needs
// the domain before it acts (device.cc, RemcovAdoptAcrossExec).
void JoinDomainFromEnvironment();

// The joined domain's mapping (nullptr: none). Set with release: once by a
// join, or first to the family domain and then once to a joined one (the
// family's mapping stays: a late reader never touches unmapped memory). A
// fork child keeps it (the mapping is shared) and so stays a member.
extern std::atomic<DomainFile*> g_domain __attribute__((visibility("hidden")));

// The family domain: an anonymous domain (a memfd) that a process which has
// joined none makes at its first fork, before the runtime's fork handler
// takes its locks, with its standing registrations published. Its fork
// children inherit the mapping, so the process, its children and theirs
// see each other's registrations whenever they were made, as the kernel's
// global table gives them (docs/kcov.md, difference 7). Nothing when a
// domain is joined; a memfd that cannot be made is counted
// (family_domain_failures) and the process forks as without one.
void EnsureFamilyDomain();

// The environment entry that keeps a new program image in its starter's
// family (kernel: one handle table for every task): "FD:DEV:INO", the
// family domain's file on descriptor FD, which the starting call leaves
// open across exec or spawn (interpose_exec.cc). At start the new image maps
// it as its family domain (JoinDomainFromEnvironment) unless REMCOV_DOMAIN
// names a domain, and makes FD close-on-exec. A named domain is not handed
// on this way: its membership is the program's to give (REMCOV_DOMAIN in
// the environment it passes).
inline constexpr char kFamilyDomainEnv[] = "REMCOV_FAMILY_DOMAIN";
// Room for the entry's value: three decimals, two colons, the NUL.
inline constexpr size_t kFamilyDomainTextMax = 3 * 20 + 2 + 1;
// The family domain's descriptor (close-on-exec; the process keeps it to
// hand it on), or -1 when the process has no family domain.
int FamilyDomainDescriptor();
// The entry's value for this process's family domain, into buf (n bytes):
// its length, or 0 without one (or when it does not fit). Allocates
// nothing, takes no lock.
size_t FamilyDomainEntryValue(char* buf, size_t n);
// Withdraws every entry of this process from f. Task context.
void DomainWithdrawOwn(DomainFile* f);
// Implemented in remote.cc, whose handle map knows the registrations; both
// REQUIRE the caller's g_join_mu (domain.cc) and take the registration lock.
// Makes f (a fresh table) the joined domain and publishes this process's
// standing registrations there: 0, or the first error (ENOMEM: full).
int PublishRegistrationsInFamilyDomain(DomainFile* f);
// Moves this process's registrations from the family domain to f: 0, or
// EEXIST/ENOMEM with everything as it was (f not joined).
int MoveRegistrationsToDomain(DomainFile* f);
// Whether this process joined a domain (inline: the miss path of every
// remote section asks).
inline bool DomainJoined() {
  return g_domain.load(std::memory_order_relaxed) != nullptr;
}
// Publishes this process's registration of `n` handles (and `common`, when
// not 0) for the device `device` names (its pid and start are this
// process's, filled in here). 0 when no domain is joined or all were
// published; EEXIST when a live process of the domain other than this one
// holds one of them; ENOMEM when the table is full. On failure nothing of
// this call stays published. REQUIRES: the caller's registration lock (one
// publication per process at a time). Task context.
int DomainPublish(const uint64_t* handles, uint32_t n, uint64_t common,
                  const DomainRecord& device);
// Withdraws this process's entries for the device file (dev, ino). Task
// context.
void DomainWithdraw(uint64_t dev, uint64_t ino);
// The entry for `handle`, lock-free: true with a snapshot that passed
// validation (a known mode, a positive pid, a descriptor in range, an area
// size remcov_remote_start could allocate), false
// when absent, being rewritten, or invalid. Async-signal-safe.
bool DomainFind(uint64_t handle, DomainRecord* out);

}  // namespace remcov::internal

#endif  // REMCOV_RUNTIME_DOMAIN_H_
