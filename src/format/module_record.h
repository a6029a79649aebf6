/* SPDX-License-Identifier: Apache-2.0 */
/* One module record of the load map (docs/format.md, "Module table"), the one
 * definition of its layout: remcov::SerializeModules / ParseModules
 * (src/format/coverage_file.cc) and the in-process runtime, which records the
 * load map into the `remcov trace` hand-off without allocating
 * (src/runtime/trace_env.cc), both encode with remcov_module_record_write.
 * The public limits in remcov/coverage_file.h are checked against these.
 *
 * C-compatible; needs only memcpy/memset. Thread safety: pure functions. */
#ifndef REMCOV_FORMAT_MODULE_RECORD_H_
#define REMCOV_FORMAT_MODULE_RECORD_H_

#include <stdint.h>
#include <string.h>

/* The fixed part; the path and the build-id follow, zero-padded to 8 bytes. */
#define REMCOV_MODULE_RECORD_BYTES 40
#define REMCOV_MODULE_PATH_MAX 4096   /* bytes; at least 1 */
#define REMCOV_MODULE_BUILD_ID_MAX 64 /* bytes; 0 = unknown */

/* Byte offsets of the fixed fields, all little-endian. */
enum remcov_module_record_offset {
  REMCOV_MODULE_OFF_KIND = 0,          /* u32: 0 user, 1 kernel, 2 module */
  REMCOV_MODULE_OFF_FLAGS = 4,         /* u32: bit 0 address unknown */
  REMCOV_MODULE_OFF_PATH_LEN = 8,      /* u32 */
  REMCOV_MODULE_OFF_BUILD_ID_LEN = 12, /* u32 */
  REMCOV_MODULE_OFF_START = 16,        /* u64 */
  REMCOV_MODULE_OFF_END = 24,          /* u64 */
  REMCOV_MODULE_OFF_BIAS = 32          /* u64 */
};

/* The whole record's size for a path and a build-id of these lengths. */
static inline uint64_t remcov_module_record_size(uint64_t path_len,
                                                 uint64_t id_len) {
  return REMCOV_MODULE_RECORD_BYTES + ((path_len + id_len + 7) & ~(uint64_t)7);
}

static inline void remcov_module_record_put_le(unsigned char* p, uint64_t v,
                                               int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Writes one record at r, remcov_module_record_size(path_len, id_len) bytes.
 * REQUIRES: 1 <= path_len <= REMCOV_MODULE_PATH_MAX,
 * id_len <= REMCOV_MODULE_BUILD_ID_MAX; id may be NULL when id_len is 0. */
static inline void remcov_module_record_write(unsigned char* r, uint32_t kind,
                                              uint32_t flags, const char* path,
                                              uint32_t path_len,
                                              const unsigned char* id,
                                              uint32_t id_len, uint64_t start,
                                              uint64_t end, uint64_t bias) {
  memset(r, 0, (size_t)remcov_module_record_size(path_len, id_len));
  remcov_module_record_put_le(r + REMCOV_MODULE_OFF_KIND, kind, 4);
  remcov_module_record_put_le(r + REMCOV_MODULE_OFF_FLAGS, flags, 4);
  remcov_module_record_put_le(r + REMCOV_MODULE_OFF_PATH_LEN, path_len, 4);
  remcov_module_record_put_le(r + REMCOV_MODULE_OFF_BUILD_ID_LEN, id_len, 4);
  remcov_module_record_put_le(r + REMCOV_MODULE_OFF_START, start, 8);
  remcov_module_record_put_le(r + REMCOV_MODULE_OFF_END, end, 8);
  remcov_module_record_put_le(r + REMCOV_MODULE_OFF_BIAS, bias, 8);
  memcpy(r + REMCOV_MODULE_RECORD_BYTES, path, path_len);
  if (id_len != 0)
    memcpy(r + REMCOV_MODULE_RECORD_BYTES + path_len, id, id_len);
}

#endif /* REMCOV_FORMAT_MODULE_RECORD_H_ */
