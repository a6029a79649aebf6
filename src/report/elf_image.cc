// SPDX-License-Identifier: Apache-2.0
// Reads an ELF file's lowest load address and entry point (elf_image.h).
#include "report/elf_image.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/strings.h"

namespace remcov::tool {
namespace {

using internal::ReadFullyAt;

template <typename Ehdr, typename Phdr>
StatusOr<ElfImage> FromFile(int fd, const std::string& path) {
  std::string head;
  if (!ReadFullyAt(fd, 0, sizeof(Ehdr), &head))
    return Status(StatusCode::kDataLoss, path + ": truncated ELF header");
  Ehdr eh;
  memcpy(&eh, head.data(), sizeof eh);
  ElfImage image;
  image.entry = eh.e_entry;
  if (eh.e_phnum == 0) return image;
  if (eh.e_phentsize != sizeof(Phdr))
    return Status(StatusCode::kDataLoss, path + ": bad program header size");
  std::string phdrs;
  if (!ReadFullyAt(fd, eh.e_phoff, size_t{eh.e_phnum} * sizeof(Phdr), &phdrs))
    return Status(StatusCode::kDataLoss, path + ": truncated program headers");
  bool found = false;
  for (size_t i = 0; i < eh.e_phnum; i++) {
    Phdr ph;
    memcpy(&ph, phdrs.data() + i * sizeof ph, sizeof ph);
    if (ph.p_type != PT_LOAD) continue;
    if (!found || ph.p_vaddr < image.lowest_vaddr)
      image.lowest_vaddr = ph.p_vaddr;
    found = true;
  }
  return image;
}

}  // namespace

StatusOr<ElfImage> ReadElfImage(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "cannot open " + path);
  std::string ident;
  StatusOr<ElfImage> image =
      Status(StatusCode::kDataLoss, path + " is not an ELF file");
  if (ReadFullyAt(fd, 0, EI_NIDENT, &ident) &&
      memcmp(ident.data(), ELFMAG, SELFMAG) == 0) {
    if (ident[EI_CLASS] == ELFCLASS64)
      image = FromFile<Elf64_Ehdr, Elf64_Phdr>(fd, path);
    else if (ident[EI_CLASS] == ELFCLASS32)
      image = FromFile<Elf32_Ehdr, Elf32_Phdr>(fd, path);
  }
  close(fd);
  return image;
}

}  // namespace remcov::tool
