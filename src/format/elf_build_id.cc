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

// Notes are small; a note region above 1 MiB is not a build-id.
constexpr uint64_t kMaxNote = 1 << 20;

// The build-id in the first of `count` headers of type Hdr at file offset
// `off` whose region holds one. region(h, &offset, &size) is false for a
// header that is not a note region. "" when none does.
template <typename Hdr, typename Region>
std::string FromNoteRegions(int fd, uint64_t off, size_t count, Region region) {
  std::string headers;
  if (!ReadFullyAt(fd, off, count * sizeof(Hdr), &headers)) return "";
  std::string blob;
  for (size_t i = 0; i < count; i++) {
    Hdr h;
    memcpy(&h, headers.data() + i * sizeof h, sizeof h);
    uint64_t offset = 0;
    uint64_t size = 0;
    if (!region(h, &offset, &size) || size > kMaxNote) continue;
    if (!ReadFullyAt(fd, offset, static_cast<size_t>(size), &blob)) continue;
    std::string id = BuildIdFromNotes(blob);
    if (!id.empty()) return id;
  }
  return "";
}

// The section headers' SHT_NOTE sections when there are section headers,
// else the program headers' PT_NOTE segments.
template <typename Ehdr, typename Shdr, typename Phdr>
std::string FromFile(int fd, const std::string& head) {
  Ehdr eh;
  memcpy(&eh, head.data(), sizeof eh);
  if (eh.e_shnum != 0 && eh.e_shentsize == sizeof(Shdr)) {
    return FromNoteRegions<Shdr>(
        fd, eh.e_shoff, eh.e_shnum,
        [](const Shdr& sh, uint64_t* offset, uint64_t* size) {
          *offset = sh.sh_offset;
          *size = sh.sh_size;
          return sh.sh_type == SHT_NOTE;
        });
  }
  if (eh.e_phnum != 0 && eh.e_phentsize == sizeof(Phdr)) {
    return FromNoteRegions<Phdr>(
        fd, eh.e_phoff, eh.e_phnum,
        [](const Phdr& ph, uint64_t* offset, uint64_t* size) {
          *offset = ph.p_offset;
          *size = ph.p_filesz;
          return ph.p_type == PT_NOTE;
        });
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
