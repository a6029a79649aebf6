/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Whole-workload driver for Brotli (the C library iltorb ships, see
 * scripts/fetch-thirdparty.sh): generates text-like blocks (words from a
 * fixed vocabulary, numbers, punctuation, some noise) with a fixed-seed
 * generator, compresses each at a quality that cycles through 1, 5 and 9,
 * decompresses it and checks the round trip byte for byte. The compressed bytes
 * go into the checksum. Input: "SEED SCALE" (SCALE blocks of 16 KiB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brotli/decode.h"
#include "brotli/encode.h"
#include "workload.h"

enum { kBlock = 16 << 10 };

static const char* const kWords[] = {
    "the",    "of",    "coverage", "kernel",  "thread", "device", "buffer",
    "remote", "trace", "section",  "handle",  "map",    "count",  "record",
    "and",    "to",    "in",       "is",      "a",      "that",   "compare",
    "switch", "pc",    "program",  "collect", "reset",  "enable", "disable"};

static size_t Generate(uint64_t* rng, uint8_t* out, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint64_t r = BenchRand(rng);
    char piece[32];
    int len;
    switch (r % 16) {
      case 0:
        len = snprintf(piece, sizeof piece, "%u", (unsigned)(r >> 40) % 10000);
        break;
      case 1:
        len = snprintf(piece, sizeof piece, ".\n");
        break;
      case 2: /* noise: a few random bytes */
        len = 4;
        memcpy(piece, &r, 4);
        break;
      default:
        len = snprintf(piece, sizeof piece, "%s ",
                       kWords[(r >> 8) % (sizeof kWords / sizeof *kWords)]);
    }
    for (int k = 0; k < len && i < n; k++) out[i++] = (uint8_t)piece[k];
  }
  return n;
}

int WorkloadRun(const uint8_t* data, size_t size, uint64_t* checksum) {
  char text[64];
  size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
  memcpy(text, data, n);
  text[n] = 0;
  unsigned long long seed = 0;
  long scale = 0;
  *checksum = 0xcbf29ce484222325ull;
  if (sscanf(text, "%llu %ld", &seed, &scale) != 2 || scale <= 0) return 0;
  uint64_t rng = seed | 1;

  static uint8_t in[kBlock], out[kBlock], enc[kBlock + 1024];
  static const int kQualities[] = {1, 5, 9};
  int failed = 0;
  for (long b = 0; b < scale; b++) {
    Generate(&rng, in, kBlock);
    int quality = kQualities[b % 3];
    size_t enc_size = sizeof enc;
    if (!BrotliEncoderCompress(quality, 18, BROTLI_MODE_TEXT, kBlock, in,
                               &enc_size, enc)) {
      fprintf(stderr, "brotli_driver: block %ld: compress failed\n", b);
      return 1;
    }
    BenchStep();
    size_t out_size = sizeof out;
    if (BrotliDecoderDecompress(enc_size, enc, &out_size, out) !=
            BROTLI_DECODER_RESULT_SUCCESS ||
        out_size != kBlock || memcmp(in, out, kBlock) != 0) {
      fprintf(stderr, "brotli_driver: block %ld: round trip failed\n", b);
      failed = 1;
    }
    BenchStep();
    BenchHash(checksum, enc, enc_size);
  }
  return failed;
}
