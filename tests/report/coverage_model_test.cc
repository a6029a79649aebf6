// SPDX-License-Identifier: Apache-2.0
// The report model (src/report/coverage_model.h) over a fake source map:
// the attribution rule, module matching across runs, and the emitters.
#include "report/coverage_model.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "remcov/coverage_file.h"

namespace remcov::tool {
namespace {

// Module addresses -> frames; sites are the addresses listed as sites.
class FakeSourceMap : public SourceMap {
 public:
  FakeSourceMap(std::vector<uint64_t> sites,
                std::map<uint64_t, SourceFrames> frames)
      : frames_(std::move(frames)) {
    sites_.sites = std::move(sites);
  }
  FakeSourceMap(SiteSet sites, std::map<uint64_t, SourceFrames> frames)
      : sites_(std::move(sites)), frames_(std::move(frames)) {}
  StatusOr<SiteSet> Sites(TraceMode mode) override {
    if (mode == TraceMode::kCmp) return SiteSet{};
    return sites_;
  }
  Status Symbolize(std::span<const uint64_t> pcs,
                   std::vector<SourceFrames>* out,
                   const ProgressFn& progress) override {
    out->clear();
    for (uint64_t pc : pcs) {
      auto it = frames_.find(pc);
      out->push_back(it != frames_.end() ? it->second
                                         : SourceFrames{{"??", "??", 0, 0}});
    }
    if (progress) progress(pcs.size(), pcs.size());
    symbolized += pcs.size();
    return Status::Ok();
  }
  size_t symbolized = 0;

 private:
  SiteSet sites_;
  std::map<uint64_t, SourceFrames> frames_;
};

const CoverageModule kProg{ModuleKind::kUser, 0,        "/bin/prog", "abcd",
                           0x401000,          0x402000, 0x400000};

std::unique_ptr<SourceMap> ProgMap() {
  // Sites at module addresses 0x1000..0x1040; f() spans lines 10-12, g()
  // line 20, and h() is inlined into g at 0x1040 (innermost frame: h, a.h).
  return std::make_unique<FakeSourceMap>(
      std::vector<uint64_t>{0x1000, 0x1010, 0x1020, 0x1030, 0x1040, 0x1060},
      std::map<uint64_t, SourceFrames>{
          {0x1000, {{"f", "/src/a.c", 10, 1}}},
          {0x1010, {{"f", "/src/a.c", 11, 1}}},
          {0x1020, {{"f", "/src/a.c", 12, 1}}},
          {0x1030, {{"g", "/src/a.c", 20, 1}}},
          {0x1040, {{"h", "/src/a.h", 3, 1}, {"g", "/src/a.c", 21, 1}}},
          {0x1050, {{"g", "/src/a.c", 22, 1}}},
      });
}

SourceMapOpener Opener(int* opened) {
  return [opened](
             const CoverageModule& m) -> StatusOr<std::unique_ptr<SourceMap>> {
    (*opened)++;
    if (m.path != "/bin/prog")
      return Status(StatusCode::kNotFound, "no such module " + m.path);
    return ProgMap();
  };
}

CoverageData MakeRun(std::vector<uint64_t> pcs, uint64_t bias = 0x400000) {
  CoverageData d;
  CoverageModule m = kProg;
  m.start = 0x1000 + bias;
  m.end = 0x2000 + bias;
  m.bias = bias;
  d.modules = {m,
               {ModuleKind::kUser, 0, "/lib/other.so", "", 0x7000000, 0x7001000,
                0x7000000}};
  d.pcs = std::move(pcs);
  return d;
}

TEST(CoverageModelTest, AttributesSitesAndPcsByTheInnermostFrame) {
  // 0x401000 twice, 0x401040 (inlined h), 0x401050 (not a site), 0x9 (no
  // module).
  CoverageData d = MakeRun({0x401000, 0x401000, 0x401040, 0x401050, 0x9});
  const CoverageData* runs[] = {&d};
  int opened = 0;
  auto m = BuildCoverageModel(runs, Opener(&opened));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(opened, 1);  // /lib/other.so has no PCs: never opened
  ASSERT_EQ(m->modules.size(), 1u);
  EXPECT_EQ(m->modules[0].sites, 6u);
  EXPECT_EQ(m->modules[0].pcs[0], 4u);
  EXPECT_EQ(m->modules[0].pcs_not_sites[0], 1u);
  EXPECT_EQ(m->modules[0].addresses_without_source, 1u);  // site 0x1060
  EXPECT_EQ(m->unattributed[0], 1u);
  const FileCoverage& a = m->files.at("/src/a.c");
  EXPECT_EQ(a.lines.at(10).hits[0], 2u);
  EXPECT_EQ(a.lines.at(11).hits[0], 0u);
  EXPECT_EQ(a.lines.at(22).hits[0], 1u);  // the PC that is not a site
  EXPECT_EQ(a.lines.at(22).sites, 0u);
  EXPECT_EQ(a.lines.count(21), 0u);  // the inlined call is attributed to a.h
  EXPECT_EQ(m->files.at("/src/a.h").functions.at("h").lines.at(3).hits[0], 1u);
  EXPECT_EQ(a.functions.at("f").first_line, 10u);
  Counts f = CountLines(a.functions.at("f").lines, 0);
  EXPECT_EQ(f.lines, 3u);
  EXPECT_EQ(f.covered, 1u);
}

// gcc -O2 tail jumps: t() ends in `jmp callback` at 0x1100 (line 30);
// main calls t() returning to 0x1200 (line 40), and u(), which has two
// tail jumps (0x1400, 0x1410), returning to 0x1300 (line 41).
TEST(CoverageModelTest, TailCallsGoToTheirOneJumpOrAreUnattributed) {
  SiteSet sites;
  sites.sites = {0x1000, 0x1100, 0x1400, 0x1410};
  sites.tail_calls = {{0x1200, 0x1100}};
  sites.ambiguous_tail_calls = {0x1300};
  auto opener =
      [&](const CoverageModule&) -> StatusOr<std::unique_ptr<SourceMap>> {
    std::unique_ptr<SourceMap> map = std::make_unique<FakeSourceMap>(
        sites, std::map<uint64_t, SourceFrames>{
                   {0x1000, {{"t", "/src/t.c", 29, 1}}},
                   {0x1100, {{"t", "/src/t.c", 30, 1}}},
                   {0x1200, {{"main", "/src/main.c", 40, 1}}},
                   {0x1300, {{"main", "/src/main.c", 41, 1}}},
                   {0x1400, {{"u", "/src/t.c", 35, 1}}},
                   {0x1410, {{"u", "/src/t.c", 37, 1}}},
               });
    return map;
  };
  CoverageData d = MakeRun({0x401000, 0x401200, 0x401200, 0x401300});
  const CoverageData* runs[] = {&d};
  auto m = BuildCoverageModel(runs, opener);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->modules.size(), 1u);
  const ModuleSummary& s = m->modules[0];
  EXPECT_EQ(s.sites, 4u);  // the jumps are sites, the callers' calls not
  EXPECT_EQ(s.pcs[0], 4u);
  EXPECT_EQ(s.pcs_not_sites[0], 0u);
  EXPECT_EQ(s.tail_call_pcs[0], 2u);
  EXPECT_EQ(s.unattributed_tail_call_pcs[0], 1u);
  const FileCoverage& t = m->files.at("/src/t.c");
  EXPECT_EQ(t.lines.at(30).hits[0], 2u);  // the jump's own line
  EXPECT_EQ(t.lines.at(30).sites, 1u);
  EXPECT_EQ(t.lines.at(35).hits[0], 0u);  // u's jumps: instrumented, no hit
  EXPECT_EQ(t.lines.at(37).hits[0], 0u);
  EXPECT_EQ(m->files.count("/src/main.c"), 0u);  // no caller line
  EmitOptions o;
  o.input_name = "t.cov";
  const std::string text = EmitText(*m, o);
  EXPECT_NE(text.find("note: 1 recorded PCs come from functions with several "
                      "tail jumps"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("not instrumented sites"), std::string::npos) << text;
  const std::string json = EmitJson(*m, o);
  EXPECT_NE(json.find("\"tail_call_pcs\": 2, "
                      "\"unattributed_tail_call_pcs\": 1"),
            std::string::npos)
      << json;
}

TEST(CoverageModelTest, MissingModuleFailsNamingIt) {
  CoverageData d = MakeRun({0x7000010});
  const CoverageData* runs[] = {&d};
  int opened = 0;
  auto m = BuildCoverageModel(runs, Opener(&opened));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("/lib/other.so"), std::string::npos);
}

TEST(CoverageModelTest, RunsAreMatchedByModuleNotByAddress) {
  CoverageData a = MakeRun({0x401000});
  CoverageData b = MakeRun({0x555555555000 + 0x1010, 0x555555555000 + 0x1000},
                           0x555555555000);
  const CoverageData* runs[] = {&a, &b};
  int opened = 0;
  auto m = BuildCoverageModel(runs, Opener(&opened));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(opened, 1);
  ASSERT_EQ(m->modules.size(), 1u);
  const FileCoverage& f = m->files.at("/src/a.c");
  EXPECT_EQ(f.lines.at(10).hits[0], 1u);
  EXPECT_EQ(f.lines.at(10).hits[1], 1u);
  EXPECT_EQ(f.lines.at(11).hits[0], 0u);
  EXPECT_EQ(f.lines.at(11).hits[1], 1u);
  EmitOptions o;
  o.input_name = "a.cov";
  o.input_name_b = "b.cov";
  o.root = "/src";
  std::string text = EmitDiffText(*m, o);
  EXPECT_NE(text.find("only by B: 1, only by A: 0, by both: 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("a.c\n  f: line 11\n"), std::string::npos) << text;
  std::string json = EmitDiffJson(*m, o);
  EXPECT_NE(json.find("{\"path\": \"a.c\", \"functions\": [{\"name\": \"f\", "
                      "\"lines\": [11]}]}"),
            std::string::npos)
      << json;
}

TEST(CoverageModelTest, DiffListsGainedAndLost) {
  CoverageData a = MakeRun({0x401000});  // line 10
  CoverageData b = MakeRun({0x401010});  // line 11
  const CoverageData* runs[] = {&a, &b};
  int opened = 0;
  auto m = BuildCoverageModel(runs, Opener(&opened));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EmitOptions o;
  o.input_name = "a.cov";
  o.input_name_b = "b.cov";
  o.root = "/src";
  const std::string text = EmitDiffText(*m, o);
  EXPECT_NE(text.find("Gained: lines covered only by B\n\na.c\n  f: line 11\n"
                      "\nLost: lines covered only by A\n\na.c\n  f: line 10\n"),
            std::string::npos)
      << text;
  const std::string json = EmitDiffJson(*m, o);
  EXPECT_NE(json.find("\"only_a\": [\n    {\"path\": \"a.c\", \"functions\": "
                      "[{\"name\": \"f\", \"lines\": [10]}]}\n  ]\n}"),
            std::string::npos)
      << json;
  // The same run twice: both lists empty.
  const CoverageData* same[] = {&a, &a};
  auto s = BuildCoverageModel(same, Opener(&opened));
  ASSERT_TRUE(s.ok());
  const std::string none = EmitDiffText(*s, o);
  EXPECT_NE(none.find("only by B\n\n  (none)\n\nLost: lines covered only by "
                      "A\n\n  (none)\n"),
            std::string::npos)
      << none;
  EXPECT_NE(EmitDiffJson(*s, o).find("\"only_b\": [],\n  \"only_a\": []\n}"),
            std::string::npos);
}

TEST(CoverageModelTest, DifferentModesAreRejected) {
  CoverageData a = MakeRun({});
  CoverageData b = MakeRun({});
  b.mode = TraceMode::kCmp;
  const CoverageData* runs[] = {&a, &b};
  int opened = 0;
  EXPECT_FALSE(BuildCoverageModel(runs, Opener(&opened)).ok());
}

class CoverageEmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    d_ = MakeRun({0x401000, 0x401000, 0x401040});
    const CoverageData* runs[] = {&d_};
    int opened = 0;
    auto m = BuildCoverageModel(runs, Opener(&opened));
    ASSERT_TRUE(m.ok());
    m_ = std::move(m.value());
    o_.input_name = "run.cov";
    o_.data = &d_;
  }
  CoverageData d_;
  CoverageModel m_;
  EmitOptions o_;
};

TEST_F(CoverageEmitTest, TextHasFilesFunctionsAndTotals) {
  o_.root = "/src/";
  std::string t = EmitText(m_, o_);
  EXPECT_NE(t.find("module /bin/prog (user, build-id abcd): 3 PCs, 6 "
                   "instrumented sites"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("\na.c          "), std::string::npos) << t;
  EXPECT_NE(t.find("\n  f      "), std::string::npos) << t;
  // a.c: lines 10, 11, 12, 20 instrumented; 10 covered. a.h: 3 covered.
  EXPECT_NE(t.find("     1/4       25.0%\n"), std::string::npos) << t;
  EXPECT_NE(t.find("TOTAL lines                                              "
                   "2/5       40.0%\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("TOTAL functions"), std::string::npos) << t;
}

TEST_F(CoverageEmitTest, JsonHasTheSchemaFields) {
  std::string j = EmitJson(m_, o_);
  const std::string version =
      "\"format_version\": " + std::to_string(remcov::kCoverageFileVersion);
  EXPECT_NE(j.find(version), std::string::npos) << version << "\n" << j;
  for (const char* want :
       {"\"schema\": \"remcov-report\"", "\"schema_version\": 1",
        "\"mode\": \"pc\"", "\"bias\": \"0x400000\"", "\"unattributed_pcs\": 0",
        "\"totals\": {\"lines_instrumented\": 5, \"lines_covered\": 2, "
        "\"functions_instrumented\": 3, \"functions_covered\": 2}",
        "{\"name\": \"f\", \"first_line\": 10, \"lines_instrumented\": 3, "
        "\"lines_covered\": 1, \"hits\": 2}",
        "{\"line\": 10, \"hits\": 2, \"sites\": 1}"}) {
    EXPECT_NE(j.find(want), std::string::npos) << want << "\n" << j;
  }
}

TEST_F(CoverageEmitTest, LcovRecordsPerFile) {
  std::string l = EmitLcov(m_, o_);
  EXPECT_NE(l.find("TN:\nSF:/src/a.c\nFN:10,f\nFNDA:2,f\nFN:20,g\nFNDA:0,g\n"
                   "FNF:2\nFNH:1\nDA:10,2\nDA:11,0\nDA:12,0\nDA:20,0\nLF:4\n"
                   "LH:1\nend_of_record\n"),
            std::string::npos)
      << l;
  EXPECT_NE(l.find("SF:/src/a.h\nFN:3,h\nFNDA:1,h\n"), std::string::npos) << l;
}

}  // namespace
}  // namespace remcov::tool
