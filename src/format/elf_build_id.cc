// SPDX-License-Identifier: Apache-2.0
// Reads GNU build-id notes (elf_build_id.h). Only the ELF and note headers
// are read, never the whole file (vmlinux is hundreds of megabytes).
#include "format/elf_build_id.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <vector>

#include "remcov/coverage_file.h"

#include "base/build_id_note.h"
#include "base/strings.h"

namespace remcov::tool {
namespace {

using internal::ReadFullyAt;

template <typename Ehdr, typename Shdr, typename Phdr>
std::string FromFile(int fd, const std::string& head) {
  Ehdr eh;
  memcpy(&eh, head.data(), sizeof eh);
  std::string blob;
  // Notes are small; a note region above 1 MiB is not a build-id.
  constexpr uint64_t kMaxNote = 1 << 20;
  if (eh.e_shnum != 0 && eh.e_shentsize == sizeof(Shdr)) {
    std::string shdrs;
    if (!ReadFullyAt(fd, eh.e_shoff, size_t{eh.e_shnum} * sizeof(Shdr), &shdrs))
      return "";
    for (size_t i = 0; i < eh.e_shnum; i++) {
      Shdr sh;
      memcpy(&sh, shdrs.data() + i * sizeof sh, sizeof sh);
      if (sh.sh_type != SHT_NOTE || sh.sh_size > kMaxNote) continue;
      if (!ReadFullyAt(fd, sh.sh_offset, static_cast<size_t>(sh.sh_size),
                       &blob))
        continue;
      std::string id = BuildIdFromNotes(blob);
      if (!id.empty()) return id;
    }
    return "";
  }
  if (eh.e_phnum != 0 && eh.e_phentsize == sizeof(Phdr)) {
    std::string phdrs;
    if (!ReadFullyAt(fd, eh.e_phoff, size_t{eh.e_phnum} * sizeof(Phdr), &phdrs))
      return "";
    for (size_t i = 0; i < eh.e_phnum; i++) {
      Phdr ph;
      memcpy(&ph, phdrs.data() + i * sizeof ph, sizeof ph);
      if (ph.p_type != PT_NOTE || ph.p_filesz > kMaxNote) continue;
      if (!ReadFullyAt(fd, ph.p_offset, static_cast<size_t>(ph.p_filesz),
                       &blob))
        continue;
      std::string id = BuildIdFromNotes(blob);
      if (!id.empty()) return id;
    }
  }
  return "";
}

}  // namespace

std::string BuildIdFromNotes(std::string_view b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  size_t len = 0;
  const unsigned char* id = internal::FindBuildIdInNotes(
      p, p + b.size(), 1, static_cast<size_t>(-1), &len);
  if (id == nullptr) return "";
  return HexEncode(std::string_view(reinterpret_cast<const char*>(id), len));
}

StatusOr<std::string> ReadBuildId(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "cannot open " + path);
  std::string head;
  std::string id;
  bool elf = ReadFullyAt(fd, 0, sizeof(Elf64_Ehdr), &head) &&
             memcmp(head.data(), ELFMAG, SELFMAG) == 0;
  if (elf && head[EI_CLASS] == ELFCLASS64) {
    id = FromFile<Elf64_Ehdr, Elf64_Shdr, Elf64_Phdr>(fd, head);
  } else if (elf && head[EI_CLASS] == ELFCLASS32) {
    id = FromFile<Elf32_Ehdr, Elf32_Shdr, Elf32_Phdr>(fd, head);
  } else {
    elf = false;
  }
  close(fd);
  if (!elf) return Status(StatusCode::kDataLoss, path + " is not an ELF file");
  return id;
}

}  // namespace remcov::tool
