// SPDX-License-Identifier: Apache-2.0
// The instrumented part of the example service: a request parser, a router,
// its handlers (with planted bugs) and the housekeeping round. Compiled once
// per coverage flavour with -DSERVICE_NS=<prefix>; see service_api.h.
//
// Request syntax: METHOD SP PATH [SP BODY], BODY being arbitrary bytes.
//   GET  /health            -> 200
//   POST /echo  <bytes>     -> 200 (checksums the body)
//   POST /sum   1,2,3       -> 200; planted bug 2 when the sum is kSumMagic
//   POST /frame <frame>     -> 200/400; frame = u32 magic (LE) u16 length
//                              payload; planted bug 1 when magic matches and
//                              length exceeds the payload
//   GET  /files/<name>      -> 200/404; planted bug 3 when name has ".."
// Functions have external linkage so dladdr can name their PCs.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "service_api.h"

#ifndef SERVICE_NS
#error "compile with -DSERVICE_NS=<prefix>"
#endif

#define SVC_CAT_(a, b) a##b
#define SVC_CAT(a, b) SVC_CAT_(a, b)

namespace SERVICE_NS {

using namespace remcov_service;

struct Slice {
  const uint8_t* p;
  size_t n;
};

struct Request {
  Slice method, path, body;
};

uint64_t g_bug_hits[kNumBugs];

// The hook every planted bug calls: counts the hit and returns its code.
__attribute__((noinline)) int ServiceBugHit(int id) {
  __atomic_fetch_add(&g_bug_hits[id], 1, __ATOMIC_RELAXED);
  return kBugBase + id;
}

uint64_t BugHits(int id) {
  if (id <= 0 || id >= kNumBugs) return 0;
  return __atomic_load_n(&g_bug_hits[id], __ATOMIC_RELAXED);
}

bool SliceEquals(Slice s, const char* lit) {
  size_t n = strlen(lit);
  if (s.n != n) return false;
  for (size_t i = 0; i < n; i++)
    if (s.p[i] != static_cast<uint8_t>(lit[i])) return false;
  return true;
}

bool SliceStartsWith(Slice s, const char* lit) {
  size_t n = strlen(lit);
  if (s.n < n) return false;
  for (size_t i = 0; i < n; i++)
    if (s.p[i] != static_cast<uint8_t>(lit[i])) return false;
  return true;
}

// Splits "METHOD PATH[ BODY]". Returns false on a malformed request line.
bool ParseRequest(const uint8_t* data, size_t size, Request* req) {
  size_t i = 0;
  while (i < size && data[i] >= 'A' && data[i] <= 'Z') i++;
  if (i == 0 || i > 8 || i >= size || data[i] != ' ') return false;
  req->method = {data, i};
  size_t start = ++i;
  if (start >= size || data[start] != '/') return false;
  while (i < size && data[i] != ' ') {
    if (data[i] < 0x21 || data[i] > 0x7e) return false;
    i++;
  }
  req->path = {data + start, i - start};
  if (i < size) i++;  // the separator before the body
  req->body = {data + i, size - i};
  return true;
}

uint32_t Checksum(Slice s) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < s.n; i++) h = (h ^ s.p[i]) * 16777619u;
  return h;
}

__attribute__((noinline)) int PlantedBugFrameLength(uint32_t declared,
                                                    size_t available) {
  // A real service would read `declared` bytes past the end here.
  (void)declared;
  (void)available;
  return ServiceBugHit(kBugFrameLength);
}

__attribute__((noinline)) int PlantedBugSumMagic(uint64_t sum) {
  (void)sum;
  return ServiceBugHit(kBugSumMagic);
}

__attribute__((noinline)) int PlantedBugTraversal(Slice name) {
  (void)name;
  return ServiceBugHit(kBugTraversal);
}

int HandleHealth(const Request&) { return kOk; }

int HandleEcho(const Request& req) {
  return Checksum(req.body) == 0 ? kBadRequest : kOk;
}

int HandleSum(const Request& req) {
  uint64_t sum = 0, cur = 0;
  bool digits = false;
  for (size_t i = 0; i <= req.body.n; i++) {
    if (i == req.body.n || req.body.p[i] == ',') {
      if (!digits) return kBadRequest;
      sum += cur;
      cur = 0;
      digits = false;
    } else if (req.body.p[i] >= '0' && req.body.p[i] <= '9') {
      cur = cur * 10 + static_cast<uint64_t>(req.body.p[i] - '0');
      digits = true;
    } else {
      return kBadRequest;
    }
  }
  if (sum == kSumMagic) return PlantedBugSumMagic(sum);
  return kOk;
}

int HandleFrame(const Request& req) {
  if (req.body.n < 6) return kBadRequest;
  uint32_t magic;
  memcpy(&magic, req.body.p, sizeof magic);
  if (magic != kFrameMagic) return kBadRequest;
  uint16_t declared;
  memcpy(&declared, req.body.p + 4, sizeof declared);
  size_t available = req.body.n - 6;
  if (declared > available) return PlantedBugFrameLength(declared, available);
  Slice payload = {req.body.p + 6, declared};
  return Checksum(payload) == 0 ? kBadRequest : kOk;
}

int HandleFiles(const Request& req) {
  Slice name = {req.path.p + 7, req.path.n - 7};  // after "/files/"
  if (name.n == 0) return kNotFound;
  for (size_t i = 0; i + 1 < name.n; i++)
    if (name.p[i] == '.' && name.p[i + 1] == '.')
      return PlantedBugTraversal(name);
  return name.n % 2 == 0 ? kOk : kNotFound;
}

// The router: the first route whose method and path match.
int Route(const Request& req) {
  bool get = SliceEquals(req.method, "GET");
  bool post = SliceEquals(req.method, "POST");
  if (SliceEquals(req.path, "/health")) {
    return get ? HandleHealth(req) : kMethodNotAllowed;
  }
  if (SliceEquals(req.path, "/echo")) {
    return post ? HandleEcho(req) : kMethodNotAllowed;
  }
  if (SliceEquals(req.path, "/sum")) {
    return post ? HandleSum(req) : kMethodNotAllowed;
  }
  if (SliceEquals(req.path, "/frame")) {
    return post ? HandleFrame(req) : kMethodNotAllowed;
  }
  if (SliceStartsWith(req.path, "/files/")) {
    return get ? HandleFiles(req) : kMethodNotAllowed;
  }
  return kNotFound;
}

int Handle(const uint8_t* data, size_t size) {
  Request req{};
  if (!ParseRequest(data, size, &req)) return kBadRequest;
  return Route(req);
}

// Housekeeping state, touched only by the housekeeping thread.
uint64_t g_cache[32];
uint64_t g_evicted, g_flushed, g_rotated;

void HousekeepingCompact(uint64_t tick) {
  for (unsigned i = 0; i < 32; i++)
    if ((g_cache[i] ^ tick) % 3 == 0) g_cache[i] = 0;
}
void HousekeepingRotate() {
  uint64_t first = g_cache[0];
  for (unsigned i = 0; i + 1 < 32; i++) g_cache[i] = g_cache[i + 1];
  g_cache[31] = first;
  g_rotated++;
}
void HousekeepingExpire(uint64_t tick) {
  for (unsigned i = 0; i < 32; i++)
    if (g_cache[i] != 0 && g_cache[i] < tick) {
      g_cache[i] = 0;
      g_evicted++;
    }
}
void HousekeepingFlush() { g_flushed++; }
void HousekeepingStats(uint64_t tick) {
  uint64_t live = 0;
  for (unsigned i = 0; i < 32; i++) live += g_cache[i] != 0;
  if (live > 16) HousekeepingExpire(tick + 64);
}

// One housekeeping round: which steps run depends on the tick, so the set of
// code a round covers varies from round to round.
void HousekeepingTick(uint64_t tick) {
  g_cache[tick % 32] = tick * 2654435761u;
  if (tick & 1) HousekeepingCompact(tick);
  if (tick & 2) HousekeepingRotate();
  if (tick % 3 == 0) HousekeepingStats(tick);
  if (tick % 5 == 0) HousekeepingExpire(tick);
  if (tick % 7 == 0) HousekeepingFlush();
}

const ServiceApi kApi = {
#define SVC_STR_(x) #x
#define SVC_STR(x) SVC_STR_(x)
    SVC_STR(SERVICE_NS),
    Handle,
    HousekeepingTick,
    BugHits,
};

}  // namespace SERVICE_NS

extern "C" const remcov_service::ServiceApi* SVC_CAT(SERVICE_NS, _api)(void) {
  return &SERVICE_NS::kApi;
}
