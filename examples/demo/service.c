/* SPDX-License-Identifier: Apache-2.0 */
/* A toy request service, instrumented with the kernel's flags
 * (-fsanitize-coverage=trace-pc,trace-cmp). Requests are "GET key",
 * "PUT key value" or "DEL key"; handlers run on a worker pool; a housekeeping
 * thread runs svc_housekeeping() in the background, unattributed. */
#include "service.h"

#include <string.h>

int svc_hash(const char* s, size_t n) {
  unsigned h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return (int)(h % 64);
}

int svc_get(const char* key, size_t n) {
  return svc_hash(key, n) % 7 == 0 ? 404 : 200;
}

int svc_put(const char* key, size_t n, const char* value, size_t vn) {
  if (vn > 32) return 413;
  return svc_hash(key, n) + (int)vn > 0 ? 201 : 500;
}

int svc_del(const char* key, size_t n) { return n > 8 ? 400 : 204; }

int svc_bad_request(const char* line, size_t n) {
  (void)line;
  return n == 0 ? 400 : 405;
}

int svc_handle(const char* line, size_t n) {
  const char* sp = memchr(line, ' ', n);
  if (sp == NULL) return svc_bad_request(line, n);
  size_t verb = (size_t)(sp - line);
  const char* rest = sp + 1;
  size_t rn = n - verb - 1;
  if (verb == 3 && memcmp(line, "GET", 3) == 0) return svc_get(rest, rn);
  if (verb == 3 && memcmp(line, "PUT", 3) == 0) {
    const char* sp2 = memchr(rest, ' ', rn);
    if (sp2 == NULL) return svc_bad_request(line, n);
    return svc_put(rest, (size_t)(sp2 - rest), sp2 + 1,
                   rn - (size_t)(sp2 - rest) - 1);
  }
  if (verb == 3 && memcmp(line, "DEL", 3) == 0) return svc_del(rest, rn);
  return svc_bad_request(line, n);
}

unsigned svc_housekeeping(unsigned tick) {
  unsigned expired = 0;
  for (unsigned i = 0; i < 16; i++)
    if ((tick + i) % 5 == 0) expired++;
  return expired;
}
