/* SPDX-License-Identifier: Apache-2.0 */
/* Symbol visibility and linkage macros shared by remcov's public headers. */
#ifndef REMCOV_EXPORT_H_
#define REMCOV_EXPORT_H_

#define REMCOV_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
#define REMCOV_C_API extern "C" REMCOV_EXPORT
#define REMCOV_EXTERN_C_BEGIN extern "C" {
#define REMCOV_EXTERN_C_END }
#else
#define REMCOV_C_API REMCOV_EXPORT
#define REMCOV_EXTERN_C_BEGIN
#define REMCOV_EXTERN_C_END
#endif

#endif /* REMCOV_EXPORT_H_ */
