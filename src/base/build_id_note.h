// SPDX-License-Identifier: Apache-2.0
// What the load map needs of an object loaded in this process, from its
// program headers (dl_iterate_phdr): its NT_GNU_BUILD_ID note and its
// executable range. Shared by the in-process runtime's load
// map (src/runtime/trace_env.cc: no allocation, callable at exit) and
// remcov::CurrentLoadMap (src/format/load_map.cc).
#ifndef REMCOV_BASE_BUILD_ID_NOTE_H_
#define REMCOV_BASE_BUILD_ID_NOTE_H_

#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace remcov::internal {

// The build-id bytes (and their count in *len), or nullptr when the object
// has no such note or it is longer than `max_len`. Malformed notes stop the
// walk; nothing outside the PT_NOTE segments is read.
inline const unsigned char* FindBuildIdNote(const dl_phdr_info* info,
                                            size_t max_len, size_t* len) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const unsigned char* p =
        reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
    const unsigned char* end = p + ph.p_memsz;
    while (static_cast<size_t>(end - p) >= sizeof(ElfW(Nhdr))) {
      ElfW(Nhdr) nh;
      memcpy(&nh, p, sizeof nh);
      const size_t name = (nh.n_namesz + 3u) & ~3u;
      const size_t desc = (nh.n_descsz + 3u) & ~3u;
      const unsigned char* n = p + sizeof nh;
      if (name > static_cast<size_t>(end - n) ||
          desc > static_cast<size_t>(end - n) - name)
        break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
          memcmp(n, "GNU", 4) == 0 && nh.n_descsz <= max_len) {
        *len = nh.n_descsz;
        return n + name;
      }
      p = n + name + desc;
    }
  }
  return nullptr;
}

// The runtime range [*lo, *hi) spanned by the object's executable PT_LOAD
// segments; false when it has none.
inline bool ExecutableRange(const dl_phdr_info* info, uint64_t* lo,
                            uint64_t* hi) {
  *lo = ~uint64_t{0};
  *hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    const uint64_t s = info->dlpi_addr + ph.p_vaddr;
    if (s < *lo) *lo = s;
    if (s + ph.p_memsz > *hi) *hi = s + ph.p_memsz;
  }
  return *hi != 0;
}

}  // namespace remcov::internal

#endif  // REMCOV_BASE_BUILD_ID_NOTE_H_
