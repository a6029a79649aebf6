// SPDX-License-Identifier: Apache-2.0
// The one walker of ELF notes for a GNU build-id (FindBuildIdInNotes), and
// what the load map needs of an object loaded in this process, from its
// program headers (dl_iterate_phdr): its NT_GNU_BUILD_ID note and its
// executable range. Shared by the in-process runtime's load
// map (src/runtime/trace_env.cc: no allocation, callable at exit),
// remcov::CurrentLoadMap (src/format/load_map.cc) and the build-id of ELF
// files and note blobs (src/format/elf_build_id.cc).
#ifndef REMCOV_BASE_BUILD_ID_NOTE_H_
#define REMCOV_BASE_BUILD_ID_NOTE_H_

#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace remcov::internal {

// Walks the ELF notes in [p, end) (4-byte aligned, native endianness; the
// note header is the same 12 bytes in ELF32 and ELF64) and returns the
// descriptor of the first NT_GNU_BUILD_ID note named "GNU" whose size is in
// [min_len, max_len], its size in *len; nullptr when there is none. A
// malformed note stops the walk; nothing outside [p, end) is read.
inline const unsigned char* FindBuildIdInNotes(const unsigned char* p,
                                               const unsigned char* end,
                                               size_t min_len, size_t max_len,
                                               size_t* len) {
  static_assert(sizeof(ElfW(Nhdr)) == 12);
  while (static_cast<size_t>(end - p) >= sizeof(ElfW(Nhdr))) {
    ElfW(Nhdr) nh;
    memcpy(&nh, p, sizeof nh);
    const size_t name = (size_t{nh.n_namesz} + 3) & ~size_t{3};
    const size_t desc = (size_t{nh.n_descsz} + 3) & ~size_t{3};
    const unsigned char* n = p + sizeof nh;
    if (name > static_cast<size_t>(end - n) ||
        desc > static_cast<size_t>(end - n) - name)
      break;
    if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
        memcmp(n, "GNU", 4) == 0 && nh.n_descsz >= min_len &&
        nh.n_descsz <= max_len) {
      *len = nh.n_descsz;
      return n + name;
    }
    p = n + name + desc;
  }
  return nullptr;
}

// The build-id bytes of a loaded object (and their count in *len), or nullptr
// when the object has no such note or it is longer than `max_len`. Only the
// PT_NOTE segments are read.
inline const unsigned char* FindBuildIdNote(const dl_phdr_info* info,
                                            size_t max_len, size_t* len) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const unsigned char* p =
        reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
    const unsigned char* id =
        FindBuildIdInNotes(p, p + ph.p_memsz, 0, max_len, len);
    if (id != nullptr) return id;
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
