/* SPDX-License-Identifier: Apache-2.0 */
#ifndef REMCOV_EXAMPLES_DEMO_SERVICE_H_
#define REMCOV_EXAMPLES_DEMO_SERVICE_H_
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
int svc_handle(const char* line, size_t n);
int svc_hash(const char* s, size_t n);
int svc_get(const char* key, size_t n);
int svc_put(const char* key, size_t n, const char* value, size_t vn);
int svc_del(const char* key, size_t n);
int svc_bad_request(const char* line, size_t n);
unsigned svc_housekeeping(unsigned tick);
#ifdef __cplusplus
}
#endif
#endif
