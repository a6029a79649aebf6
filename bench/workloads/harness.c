/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The main of every whole-workload variant, never instrumented itself: reads
 * the input file, sets coverage collection up the way the variant's macro
 * says, runs the driver once and prints one line
 *   checksum=<hex> records=<n> max_step=<n> overflow=<n>
 * (records: entries collected over the run, max_step: the most collected
 * between two BenchStep calls, overflow: entries dropped for lack of space).
 *
 *   (no macro)       no collection: none, AFL++ and plain-counter variants
 *   BENCH_COUNTERS   libFuzzer's inline 8-bit counters, with the trivial
 *                    __sanitizer_cov_8bit_counters_init they need
 *   BENCH_MINIMAL    minimal_kcov.c's callback;   argv[1]: off | pc
 *   BENCH_REMCOV     remcov's runtime via its C API; argv[1]: off | pc | cmp
 *                    | unique (KCOV_UNIQUE_ENABLE: code built with clang's
 *                    trace-pc-guard; each PC once per step)
 *   BENCH_LIBFUZZER  LLVMFuzzerTestOneInput for -fsanitize=fuzzer: libFuzzer's
 *                    main runs it once per input file given
 * Usage (not libFuzzer): BIN [off|pc|cmp|unique] INPUT
 * BENCH_AREA_WORDS=N in the environment overrides the area size (the
 * overflow comparison of PC and unique mode uses syzkaller's 512Ki words).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "workload.h"

#ifdef BENCH_REMCOV
#include "remcov/remcov.h"
#endif

/* The area every collecting variant gets, in words: large enough that nothing
 * overflows, so every callback takes its append path (overflow=0 in the
 * output shows it). A realistic size (syzkaller's executor maps 512Ki words)
 * overflows in SQLite's larger statements: 815,800 PCs in one UPDATE at
 * scale 1000, and in CMP mode 12.2 million records in one step, because a
 * switch is recorded as one record per case (KCOV's semantics) and the VDBE
 * interpreter's switch has about 190 cases. The count is reset between the
 * drivers' steps all the same, as a fuzzer resets it between inputs. */
enum { kPcAreaWords = 4 << 20, kCmpAreaWords = 16 * kPcAreaWords };

/* Unique mode's bitmap, in words at the start of the area (262,144 sites;
 * SQLite has about 40,000): the trace's count is word kBitmapWords. */
enum { kBitmapWords = 4096 };

static unsigned long* area;
static unsigned long area_words;
static unsigned long count_index; /* 0, kBitmapWords in unique mode, or
                                     kCounterMapWords in counters mode */
static int counting;              /* counters mode: the map's slots set */

/* Counters mode (remcov's extension, docs/kcov.md): a map of 2^16 counters
 * at the start of the area, as AFL++'s and libFuzzer's default maps. */
enum { kCounterBits = 16, kCounterMapWords = (1 << kCounterBits) / 8 };
static unsigned long long records, max_step, steps_full;

/* Counters mode: the whole run is one input. A fuzzer clears its map once
 * per input; reading and clearing 64 KiB at each of the drivers' thousands
 * of steps would measure that, not the callbacks. */
static int final_step;

void BenchStep(void) {
  if (!area) return;
  if (counting && !final_step) return;
  /* Same thread as the writer: relaxed is enough. */
  unsigned long n = __atomic_load_n(&area[count_index], __ATOMIC_RELAXED);
  if (counting) { /* the "records" of a step: the slots it set */
    n = 0;
    for (unsigned long i = 0; i < count_index * 8; i++)
      n += ((const unsigned char*)area)[i] != 0;
  }
  records += n;
  if (n > max_step) max_step = n;
  if (count_index + n + 1 >= area_words) steps_full++;
  /* Unique mode resets as the proposal says: bitmap and count, so each step
   * (like each fuzzer input) records each PC once; counters mode zeroes its
   * map, as a fuzzer does between inputs. */
  for (unsigned long i = 0; i < count_index; i++)
    __atomic_store_n(&area[i], 0, __ATOMIC_RELAXED);
  __atomic_store_n(&area[count_index], 0, __ATOMIC_RELAXED);
}

#ifdef BENCH_COUNTERS
void __sanitizer_cov_8bit_counters_init(char* start, char* end) {
  (void)start;
  (void)end;
}
#endif

#ifdef BENCH_MINIMAL
void MinimalKcovEnable(unsigned long* area, unsigned long words);
#endif

static void Report(uint64_t checksum, unsigned long long overflow) {
  printf("checksum=%016llx records=%llu max_step=%llu overflow=%llu\n",
         (unsigned long long)checksum, records, max_step, overflow);
  fflush(stdout);
}

#ifdef BENCH_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t checksum = 0;
  if (WorkloadRun(data, size, &checksum) != 0) {
    fprintf(stderr, "workload: self-check failed\n");
    abort();
  }
  Report(checksum, 0);
  return 0;
}
#else
static uint8_t* ReadFile(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  static uint8_t buf[1 << 16];
  *size = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return buf;
}

int main(int argc, char** argv) {
  const char* mode = argc == 3 ? argv[1] : "off";
  const char* input = argv[argc - 1];
  size_t size = 0;
  uint8_t* data = argc >= 2 ? ReadFile(input, &size) : NULL;
  if (!data) {
    fprintf(stderr, "usage: %s [off|pc|cmp|unique|counters] INPUT\n", argv[0]);
    return 2;
  }
  int cmp = strcmp(mode, "cmp") == 0;
  int unique = strcmp(mode, "unique") == 0;
  counting = strcmp(mode, "counters") == 0;
  int collect = cmp || unique || counting || strcmp(mode, "pc") == 0;
  area_words = cmp ? kCmpAreaWords : kPcAreaWords;
  const char* words_env = getenv("BENCH_AREA_WORDS");
  if (words_env != NULL) area_words = strtoul(words_env, NULL, 0);
#if defined(BENCH_MINIMAL)
  if (cmp) return 2;
  if (collect) {
    area = mmap(NULL, area_words * sizeof(long), PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) return 1;
    MinimalKcovEnable(area, area_words);
  }
#elif defined(BENCH_REMCOV)
  /* The runtime emulates a kernel with the unmerged series only when asked
   * (docs/kcov.md, difference 15); it reads this at the ioctl. */
  if (unique) setenv("REMCOV_UNIQUE_ENABLE", "1", 1);
  int fd = remcov_open();
  if (fd < 0 || remcov_ioctl(fd, REMCOV_KCOV_INIT_TRACE, area_words) != 0)
    return 1;
  if (collect) {
    area = remcov_mmap(NULL, area_words * sizeof(long), PROT_READ | PROT_WRITE,
                       MAP_SHARED, fd, 0);
    if (area == MAP_FAILED) return 1;
    if (counting) {
      count_index = kCounterMapWords;
      if (remcov_ioctl(fd, REMCOV_KCOV_ENABLE,
                       REMCOV_KCOV_TRACE_COUNTERS(kCounterBits)) != 0) {
        perror("KCOV_ENABLE (counters mode)");
        return 1;
      }
    } else if (unique) {
      count_index = kBitmapWords;
      if (remcov_ioctl(fd, REMCOV_KCOV_UNIQUE_ENABLE, kBitmapWords) != 0) {
        perror("KCOV_UNIQUE_ENABLE");
        return 1;
      }
    } else if (remcov_ioctl(
                   fd, REMCOV_KCOV_ENABLE,
                   cmp ? REMCOV_KCOV_TRACE_CMP : REMCOV_KCOV_TRACE_PC) != 0) {
      return 1;
    }
  }
#else
  if (collect) return 2;
#endif
  uint64_t checksum = 0;
  int rc = WorkloadRun(data, size, &checksum);
  final_step = 1;
  BenchStep();
  unsigned long long overflow = 0;
#if defined(BENCH_MINIMAL)
  if (collect) MinimalKcovEnable(NULL, 0);
  overflow = steps_full; /* the minimal callback counts nothing: steps that
                            filled the area are the best it can say */
#elif defined(BENCH_REMCOV)
  if (collect) remcov_ioctl(fd, REMCOV_KCOV_DISABLE, 0);
  remcov_device_stats_t st;
  if (remcov_device_stats(fd, &st) == 0) overflow = st.overflow_entries;
  remcov_close(fd);
#endif
  if (rc != 0) {
    fprintf(stderr, "workload: self-check failed\n");
    return 1;
  }
  Report(checksum, overflow);
  return 0;
}
#endif
