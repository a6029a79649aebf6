// SPDX-License-Identifier: Apache-2.0
// The exports of `remcov report` (src/report/exports.h) and the list of
// formats (src/report/formats.h) over made-up coverage data: exact bytes of
// each format, the address rules, and what each format refuses or counts.
// tests/report/export_test.py runs them through the real pipeline and the
// real consumers.
#include "report/exports.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "report/formats.h"
#include "report/text_escape.h"

namespace remcov::tool {
namespace {

constexpr uint64_t kBias = 0x555500000000;
constexpr uint64_t kCall = kCallInstructionBytes;

CoverageModule Prog(uint64_t bias = kBias) {
  return {ModuleKind::kUser, 0,   "/bin/prog", "abcd", bias + 0x1000,
          bias + 0x3000,     bias};
}

CoverageData Data(std::vector<CoverageModule> modules,
                  std::vector<uint64_t> pcs) {
  CoverageData d;
  d.modules = std::move(modules);
  d.pcs = std::move(pcs);
  return d;
}

ModuleImageFn Image(uint64_t lowest_vaddr, uint64_t entry) {
  return [=](const CoverageModule&) -> StatusOr<ElfImage> {
    return ElfImage{lowest_vaddr, entry};
  };
}

uint64_t Le(const std::string& s, size_t off, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--)
    v = (v << 8) | static_cast<uint8_t>(s[off + static_cast<size_t>(i)]);
  return v;
}

// drcov's binary BB table after "BB Table: N bbs\n": {start, size, mod_id}.
std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> Bbs(
    const std::string& log) {
  const size_t at = log.find("bbs\n");
  EXPECT_NE(at, std::string::npos);
  std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> out;
  for (size_t off = at + 4; off + 8 <= log.size(); off += 8)
    out.emplace_back(Le(log, off, 4), Le(log, off + 4, 2), Le(log, off + 6, 2));
  EXPECT_EQ((log.size() - at - 4) % 8, 0u);
  return out;
}

TEST(FormatsTest, EveryFormatIsListedOnceWithAUniqueName) {
  std::set<ReportFormat> formats;
  std::set<std::string_view> names;
  for (const FormatInfo& f : ReportFormats()) {
    EXPECT_TRUE(formats.insert(f.format).second) << f.name;
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_EQ(FindReportFormat(f.name), &f);
    EXPECT_FALSE(f.help.empty()) << f.name;
    EXPECT_EQ(f.diff, !f.diff_help.empty()) << f.name;
  }
  EXPECT_EQ(formats.size(), 8u);  // every ReportFormat enumerator
  EXPECT_EQ(FindReportFormat("xml"), nullptr);
  EXPECT_EQ(FormatNames(true), "text, json");
  EXPECT_EQ(FormatNames(false),
            "text, json, lcov, cobertura, drcov, rawcover, jsonl, sancov");
  const std::string help = FormatHelp(false);
  for (const FormatInfo& f : ReportFormats())
    EXPECT_NE(help.find("     " + std::string(f.name) + " "),
              std::string::npos);
  EXPECT_EQ(FormatHelp(true).find("sancov"), std::string::npos);
}

TEST(DrcovTest, ModuleTableAndBlocksAtCallInstructionOffsets) {
  // A PIE (lowest PT_LOAD at 0): base = bias; a PC recorded twice is one
  // block; blocks are the call instructions (return address - kCall).
  const CoverageData d = Data({Prog()}, {kBias + 0x1105, kBias + 0x1205,
                                         kBias + 0x1105, kBias + 0x1305});
  auto out = ExportDrcov(d, Image(0, 0x1040));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::string& log = out->bytes;
  const std::string head =
      "DRCOV VERSION: 2\nDRCOV FLAVOR: remcov\n"
      "Module Table: version 2, count 1\n"
      "Columns: id, base, end, entry, path\n"
      "0, 0x0000555500000000, 0x0000555500003000, 0x0000555500001040, "
      "/bin/prog\n"
      "BB Table: 3 bbs\n";
  ASSERT_EQ(log.substr(0, head.size()), head);
  using Bb = std::tuple<uint64_t, uint64_t, uint64_t>;
  EXPECT_EQ(Bbs(log), (std::vector<Bb>{{0x1105 - kCall, kCall, 0},
                                       {0x1205 - kCall, kCall, 0},
                                       {0x1305 - kCall, kCall, 0}}));
  EXPECT_TRUE(out->warnings.empty());
}

TEST(DrcovTest, NonPieBaseIsTheLowestLoadAddress) {
  // A non-PIE executable: bias 0, image at 0x400000 (the disassembler's
  // image base), so offsets are from 0x400000.
  CoverageModule m{ModuleKind::kUser, 0, "/bin/static", "", 0x401000,
                   0x402000,          0};
  auto out = ExportDrcov(Data({m}, {0x401234}), Image(0x400000, 0x401020));
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->bytes.find("0, 0x0000000000400000, 0x0000000000402000, "
                            "0x0000000000401020, /bin/static\n"),
            std::string::npos)
      << out->bytes;
  EXPECT_EQ(std::get<0>(Bbs(out->bytes).at(0)), 0x1234 - kCall);
}

TEST(DrcovTest, OnlyModulesWithPcsAreListedAndNumberedInLoadMapOrder) {
  CoverageModule lib{
      ModuleKind::kUser, 0, "/lib/libx.so", "", 0x7f0000001000, 0x7f0000002000,
      0x7f0000000000};
  CoverageModule unused{ModuleKind::kUser, 0,
                        "/lib/unused.so",  "",
                        0x7e0000001000,    0x7e0000002000,
                        0x7e0000000000};
  auto out =
      ExportDrcov(Data({Prog(), unused, lib}, {0x7f0000001010, kBias + 0x1010}),
                  Image(0, 0));
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->bytes.find("count 2\n"), std::string::npos);
  EXPECT_NE(out->bytes.find(", /bin/prog\n1, "), std::string::npos);
  EXPECT_NE(out->bytes.find(", /lib/libx.so\nBB Table: 2 bbs\n"),
            std::string::npos);
  EXPECT_EQ(out->bytes.find("unused"), std::string::npos);
  const auto bbs = Bbs(out->bytes);
  ASSERT_EQ(bbs.size(), 2u);
  EXPECT_EQ(std::get<2>(bbs[0]), 0u);
  EXPECT_EQ(std::get<2>(bbs[1]), 1u);
}

TEST(DrcovTest, PcsOutsideModulesAndBeyondFourGiBAreCountedNotWritten) {
  CoverageModule huge = Prog();
  huge.end = kBias + 0x200000000;
  auto out = ExportDrcov(
      Data({huge}, {0x1234, 0x1234, kBias + 0x1105, kBias + 0x100000010}),
      Image(0, 0));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Bbs(out->bytes).size(), 1u);
  ASSERT_EQ(out->warnings.size(), 2u);
  EXPECT_EQ(out->warnings[0],
            "2 recorded PCs lie outside every module of the load map: drcov "
            "cannot place them; not written");
  EXPECT_NE(out->warnings[1].find("1 recorded PCs lie 4 GiB or more"),
            std::string::npos);
}

TEST(DrcovTest, PathsThatWouldBreakTheTableAreRefused) {
  for (const char* path : {"/a, b/prog", "/a\nb", "/bad\xff"}) {
    CoverageModule m = Prog();
    m.path = path;
    auto out = ExportDrcov(Data({m}, {kBias + 0x1105}), Image(0, 0));
    ASSERT_FALSE(out.ok()) << path;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(out.status().message().find("drcov cannot write the path"),
              std::string::npos);
  }
}

TEST(DrcovTest, ImageErrorsComeBack) {
  auto out = ExportDrcov(Data({Prog()}, {kBias + 0x1105}),
                         [](const CoverageModule&) -> StatusOr<ElfImage> {
                           return Status(StatusCode::kNotFound, "gone");
                         });
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kNotFound);
}

TEST(RawcoverTest, UserModuleAddressesInRecordedOrderWithRepeats) {
  auto out = ExportRawcover(
      Data({Prog()}, {kBias + 0x1205, kBias + 0x1105, kBias + 0x1205, 0x99}));
  ASSERT_TRUE(out.ok());
  char want[100];
  snprintf(want, sizeof want, "0x%llx\n0x%llx\n0x%llx\n",
           static_cast<unsigned long long>(0x1205 - kCall),
           static_cast<unsigned long long>(0x1105 - kCall),
           static_cast<unsigned long long>(0x1205 - kCall));
  EXPECT_EQ(out->bytes, want);
  ASSERT_EQ(out->warnings.size(), 1u);
  EXPECT_NE(out->warnings[0].find("1 recorded PCs lie outside every module"),
            std::string::npos);
}

TEST(RawcoverTest, KernelPcsKeepTheirRuntimeAddresses) {
  CoverageModule vmlinux{ModuleKind::kKernel, 0, "vmlinux", "", 0,
                         0xffffffffffffffff,  0};
  CoverageModule kvm{ModuleKind::kKernelModule,
                     0,
                     "kvm",
                     "",
                     0xffffffffc0000000,
                     0xffffffffc0100000,
                     0xffffffffc0000000};
  // kvm first: FindModule takes the first module that holds a PC.
  auto out = ExportRawcover(
      Data({kvm, vmlinux}, {0xffffffff81000105, 0xffffffffc0000105}));
  ASSERT_TRUE(out.ok());
  char want[100];
  snprintf(want, sizeof want, "0x%llx\n0x%llx\n",
           static_cast<unsigned long long>(0xffffffff81000105 - kCall),
           static_cast<unsigned long long>(0xffffffffc0000105 - kCall));
  EXPECT_EQ(out->bytes, want);
  // No load map at all (a version 1 file): as recorded.
  auto v1 = ExportRawcover(Data({}, {0xffffffff81000105}));
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->bytes, std::string(want).substr(0, 19));
  EXPECT_TRUE(v1->warnings.empty());
}

TEST(RawcoverTest, SeveralAddressSpacesAreRefused) {
  CoverageModule lib{
      ModuleKind::kUser, 0, "/lib/libx.so", "", 0x7f0000001000, 0x7f0000002000,
      0x7f0000000000};
  auto out =
      ExportRawcover(Data({Prog(), lib}, {kBias + 0x1105, 0x7f0000001010}));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("2 (/bin/prog, /lib/libx.so)"),
            std::string::npos)
      << out.status().message();
  // One module with PCs is fine even when others are loaded.
  EXPECT_TRUE(ExportRawcover(Data({Prog(), lib}, {kBias + 0x1105})).ok());
}

TEST(SancovTest, OneFilePerModuleWithMagicAndSortedDistinctPoints) {
  CoverageModule vmlinux{ModuleKind::kKernel, 0, "vmlinux", "", 0,
                         0xffffffffffffffff,  0};
  CoverageModule ko{ModuleKind::kKernelModule,
                    0,
                    "kvm",
                    "",
                    0xffffffffc0000000,
                    0xffffffffc0100000,
                    0xffffffffc0000000};
  CoverageModule other = Prog(0x7f0000000000);
  other.path = "/other/prog";  // the same file name as /bin/prog
  auto out = ExportSancov(
      Data({Prog(), other, ko, vmlinux},
           {kBias + 0x1205, kBias + 0x1105, kBias + 0x1205, 0x7f0000001010,
            0xffffffffc0000105, 0xffffffff81000105}));
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->files.size(), 4u);
  std::map<std::string, const ExportFile*> by_name;
  for (const ExportFile& f : out->files) by_name[f.name] = &f;
  ASSERT_EQ(by_name.count("prog.0.sancov"), 1u);
  ASSERT_EQ(by_name.count("prog.1.sancov"), 1u);
  ASSERT_EQ(by_name.count("kvm.ko.0.sancov"), 1u);
  ASSERT_EQ(by_name.count("vmlinux.0.sancov"), 1u);
  const ExportFile& prog = *by_name["prog.0.sancov"];
  EXPECT_EQ(prog.module, "/bin/prog");
  EXPECT_EQ(prog.pcs, 2u);
  ASSERT_EQ(prog.bytes.size(), 24u);
  // Bitness 0xFFFFFF64, then magic 0xC0BFFFFF (LLVM's sancov FileHeader).
  EXPECT_EQ(prog.bytes.substr(0, 8),
            std::string("\x64\xff\xff\xff\xff\xff\xbf\xc0", 8));
  EXPECT_EQ(Le(prog.bytes, 8, 8), 0x1104u);
  EXPECT_EQ(Le(prog.bytes, 16, 8), 0x1204u);
  EXPECT_EQ(Le(by_name["prog.1.sancov"]->bytes, 8, 8), 0x100fu);
  EXPECT_EQ(Le(by_name["kvm.ko.0.sancov"]->bytes, 8, 8), 0x104u);
  EXPECT_EQ(Le(by_name["vmlinux.0.sancov"]->bytes, 8, 8), 0xffffffff81000104u);
  EXPECT_TRUE(out->warnings.empty());
}

TEST(SancovTest, NothingInAModuleIsSaid) {
  auto out = ExportSancov(Data({Prog()}, {0x10, 0x20}));
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->files.empty());
  ASSERT_EQ(out->warnings.size(), 2u);
  EXPECT_NE(out->warnings[0].find("2 recorded PCs lie outside"),
            std::string::npos);
  EXPECT_NE(out->warnings[1].find("no .sancov file written"),
            std::string::npos);
}

// Module addresses -> frames (innermost first); sites listed.
class FakeSourceMap : public SourceMap {
 public:
  FakeSourceMap(std::vector<uint64_t> sites,
                std::map<uint64_t, SourceFrames> frames)
      : sites_(std::move(sites)), frames_(std::move(frames)) {}
  StatusOr<SiteSet> Sites(TraceMode) override {
    SiteSet s;
    s.sites = sites_;
    return s;
  }
  Status Symbolize(std::span<const uint64_t> pcs,
                   std::vector<SourceFrames>* out, const ProgressFn&) override {
    out->clear();
    for (uint64_t pc : pcs) {
      auto it = frames_.find(pc);
      out->push_back(it != frames_.end() ? it->second
                                         : SourceFrames{{"??", "??", 0, 0}});
    }
    return Status::Ok();
  }

 private:
  std::vector<uint64_t> sites_;
  std::map<uint64_t, SourceFrames> frames_;
};

SourceMapOpener Opener() {
  return [](const CoverageModule& m) -> StatusOr<std::unique_ptr<SourceMap>> {
    if (m.path != "/bin/prog")
      return Status(StatusCode::kNotFound, "no " + m.path);
    return std::unique_ptr<SourceMap>(new FakeSourceMap(
        {0x1105, 0x1205},
        {{0x1105, {{"f", "/src/a.c", 10, 3}}},
         {0x1205, {{"h", "/src/a\xff.h", 2, 0}, {"g", "/src/a.c", 20, 5}}}}));
  };
}

TEST(JsonlTest, OneObjectPerFrameOfEverySiteAndPc) {
  auto out = ExportJsonl(
      Data({Prog()}, {kBias + 0x1205, kBias + 0x1205, kBias + 0x1305}),
      Opener());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::string pc1 = std::to_string(0x1105 - kCall);
  const std::string pc2 = std::to_string(0x1205 - kCall);
  const std::string pc3 = std::to_string(0x1305 - kCall);
  const std::string mod = ",\"module\":\"/bin/prog\"}\n";
  EXPECT_EQ(
      out->bytes,
      "{\"file_path\":\"/src/a.c\",\"func_name\":\"f\",\"sl\":10,\"sc\":3,"
      "\"el\":10,\"ec\":-1,\"hit_count\":0,\"inline\":false,\"pc\":" +
          pc1 + mod +
          "{\"file_path\":\"/src/a\xEF\xBF\xBD.h\",\"func_name\":\"h\",\"sl\":"
          "2,\"sc\":0,\"el\":2,\"ec\":-1,\"hit_count\":2,\"inline\":true,"
          "\"pc\":" +
          pc2 + mod +
          "{\"file_path\":\"/src/a.c\",\"func_name\":\"g\",\"sl\":20,\"sc\":5,"
          "\"el\":20,\"ec\":-1,\"hit_count\":2,\"inline\":false,\"pc\":" +
          pc2 + mod +
          "{\"file_path\":\"??\",\"func_name\":\"??\",\"sl\":0,\"sc\":0,"
          "\"el\":0,\"ec\":-1,\"hit_count\":1,\"inline\":false,\"pc\":" +
          pc3 + mod);
  ASSERT_EQ(out->warnings.size(), 1u);
  EXPECT_EQ(out->warnings[0],
            "1 bytes of paths or names are not UTF-8: written as U+FFFD");
}

TEST(JsonlTest, AModuleThatCannotBeOpenedFailsTheExport) {
  CoverageModule lib{
      ModuleKind::kUser, 0, "/lib/gone.so", "", 0x7f0000001000, 0x7f0000002000,
      0x7f0000000000};
  auto out = ExportJsonl(Data({lib}, {0x7f0000001010}), Opener());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kNotFound);
}

CoverageModel Model() {
  CoverageModel m;
  FileCoverage& f = m.files["/src/dir/a&b.c"];
  f.lines[10] = LineCoverage{{3, 0}, 1};
  f.lines[11] = LineCoverage{{0, 0}, 1};
  f.lines[12] = LineCoverage{{1, 0}, 1};
  FunctionCoverage& fn = f.functions["op<(int)"];
  fn.first_line = 10;
  fn.lines = f.lines;
  FileCoverage& g = m.files["/elsewhere/b\x01\xfe.h"];
  g.lines[1] = LineCoverage{{0, 0}, 1};
  m.unattributed[0] = 4;
  ModuleSummary s;
  s.module = Prog();
  s.addresses_without_source = 2;
  m.modules.push_back(s);
  return m;
}

TEST(CoberturaTest, PackagesClassesMethodsLinesAndRates) {
  const ExportOutput out =
      ExportCobertura(Model(), {"/src", "remcov 9.9", 1234});
  const std::string& x = out.bytes;
  EXPECT_NE(x.find("<coverage line-rate=\"0.5\" branch-rate=\"1\" "
                   "lines-covered=\"2\" lines-valid=\"4\" "
                   "branches-covered=\"0\" branches-valid=\"0\" "
                   "complexity=\"0\" version=\"remcov 9.9\" "
                   "timestamp=\"1234\">"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<sources>\n    <source>/src</source>\n  </sources>"),
            std::string::npos);
  EXPECT_NE(x.find("<package name=\"dir\" line-rate=\"0.6667\""),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<class name=\"a&amp;b.c\" filename=\"dir/a&amp;b.c\" "
                   "line-rate=\"0.6667\""),
            std::string::npos);
  EXPECT_NE(x.find("<method name=\"op&lt;(int)\" signature=\"\" "
                   "line-rate=\"0.6667\""),
            std::string::npos);
  EXPECT_NE(x.find("<line number=\"10\" hits=\"3\" branch=\"false\"/>"),
            std::string::npos);
  // Outside the root: the absolute path; a control byte and a byte that is
  // not UTF-8 become U+FFFD.
  EXPECT_NE(x.find("<package name=\"elsewhere\" line-rate=\"0\""),
            std::string::npos);
  EXPECT_NE(x.find("filename=\"/elsewhere/b\xEF\xBF\xBD\xEF\xBF\xBD.h\""),
            std::string::npos);
  EXPECT_NE(x.find("<methods/>"), std::string::npos);
  ASSERT_EQ(out.warnings.size(), 3u);
  EXPECT_EQ(out.warnings[0],
            "4 recorded PCs lie outside every module of the load map: not in "
            "the Cobertura report");
  EXPECT_NE(out.warnings[1].find("2 addresses (sites or PCs) have no source "
                                 "line"),
            std::string::npos);
  EXPECT_NE(out.warnings[2].find("4 bytes or characters"), std::string::npos)
      << out.warnings[2];
}

TEST(CoberturaTest, NoRootMeansNoSourceAndAbsoluteFilenames) {
  const ExportOutput out = ExportCobertura(Model(), {"", "v", 0});
  EXPECT_NE(out.bytes.find("<sources/>"), std::string::npos);
  EXPECT_NE(out.bytes.find("filename=\"/src/dir/a&amp;b.c\""),
            std::string::npos);
  EXPECT_NE(out.bytes.find("<package name=\"src.dir\""), std::string::npos);
}

TEST(RunExportTest, ComparisonFilesAreRefusedByThePcFormats) {
  CoverageData d = Data({Prog()}, {});
  d.mode = TraceMode::kCmp;
  for (const char* name : {"drcov", "rawcover", "jsonl", "sancov"}) {
    ExportRequest r;
    r.format = FindReportFormat(name);
    r.data = &d;
    auto out = RunExport(r);
    ASSERT_FALSE(out.ok()) << name;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(out.status().message().find("comparison-mode"),
              std::string::npos);
  }
}

TEST(RunExportTest, AnOverflowedTraceIsSaidFirst) {
  CoverageData d = Data({Prog()}, {kBias + 0x1105});
  d.flags = kCoverageOverflow;
  d.dropped = 77;
  ExportRequest r;
  r.format = FindReportFormat("rawcover");
  r.data = &d;
  auto out = RunExport(r);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->warnings.size(), 1u);
  EXPECT_NE(out->warnings[0].find("partial (77 entries known lost"),
            std::string::npos);
}

TEST(TextEscapeTest, Utf8DecodingRejectsWhatIsNotUtf8) {
  uint32_t c = 0;
  EXPECT_EQ(DecodeUtf8("\xF0\x9F\x98\x80", 0, &c), 4u);
  EXPECT_EQ(c, 0x1F600u);
  EXPECT_EQ(DecodeUtf8("\xC3\xA9", 0, &c), 2u);
  for (std::string bad : {"\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                          "\xE2\x82", "\x80", "\xFF"})
    EXPECT_EQ(DecodeUtf8(bad, 0, &c), 0u);
  std::string x;
  EXPECT_EQ(AppendXml("a<b>&\"c\"\t\n\x1f\xef\xbf\xbe", &x), 2u);
  EXPECT_EQ(x, "a&lt;b&gt;&amp;&quot;c&quot;&#9;&#10;\xEF\xBF\xBD\xEF\xBF\xBD");
  std::string j;
  EXPECT_EQ(AppendJsonString("q\"\\\n\x01\xc3", &j), 1u);
  EXPECT_EQ(j, "\"q\\\"\\\\\\u000a\\u0001\xEF\xBF\xBD\"");
}

TEST(TextEscapeTest, LosslessJsonEscapesEachNonUtf8ByteAsALoneSurrogate) {
  // Valid UTF-8 stays; 0xff, a truncated sequence and an encoded surrogate
  // are U+DC00 + byte each (Python's surrogateescape).
  std::string j;
  AppendJsonStringLossless("a\xC3\xA9\xFF/\xE2\x82\n\xED\xA0\x80", &j);
  EXPECT_EQ(j,
            "\"a\xC3\xA9\\udcff/\\udce2\\udc82\\u000a\\udced\\udca0\\udc80\"");
  EXPECT_TRUE(IsUtf8(j));
}

TEST(TextEscapeTest, LcovPathsAndNames) {
  EXPECT_TRUE(LcovCanHoldPath("/src/a b/\xFF.c"));
  EXPECT_FALSE(LcovCanHoldPath("/src/a\nb.c"));
  EXPECT_FALSE(LcovCanHoldPath("/src/a\rb.c"));
  EXPECT_EQ(LcovName("f<int, char>\n\x7f"), "f<int; char>??");
}

}  // namespace
}  // namespace remcov::tool
