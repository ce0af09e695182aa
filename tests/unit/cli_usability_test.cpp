// Tests of the command line a new user meets first (issue 17, items 6-8), run as a separate
// process: `atoll convert`, atom directories on one rank, --version, `atoll help`, `run
// --list`, an app's own --help, "did you mean", options checked before the graph is loaded,
// `partition --force`, comma-separated input, notes on options that do nothing, and
// PageRank's non-convergence line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_util.hpp"

namespace {

using atl::test::CommandResult;
using atl::test::run_command;
using atl::test::TempDir;
using atl::test::write_file;
using testing::HasSubstr;
using testing::Not;

CommandResult atoll(const std::string& args) {
  return run_command(std::string("'") + ATOLL_BINARY + "' " + args);
}

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "stderr:\n" + r.err;
}

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

/// A 4 x 4 grid (vertices 0..15, 24 edges) written as a text edge list.
std::string grid(const TempDir& dir) {
  const std::string path = dir.file("g.el");
  CommandResult r = atoll("generate grid --rows 4 --cols 4 --out " + quoted(path));
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  return path;
}

/// The summary lines of `run cc` (the component labels), which must not depend on the input form.
std::string cc_out(const std::string& graph, const TempDir& dir, const std::string& name) {
  const std::string out = dir.file(name);
  CommandResult r = atoll("run cc " + quoted(graph) + " -q --out " + quoted(out));
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  return atl::test::read_file(out);
}

// ---- item 6: convert, atom directories on one rank ---------------------------------------------

TEST(CliUsability, ConvertToBinaryAndBack) {
  TempDir dir;
  const std::string text = grid(dir);
  CommandResult r = atoll("convert " + quoted(text) + " " + quoted(dir.file("g.bin")));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("(bin, 24 edges)"));
  EXPECT_EQ(atl::test::read_file(dir.file("g.bin")).substr(0, 8), "ATOLLEL1");
  // --format wins over the name; --symmetrize doubles the edges.
  r = atoll("convert " + quoted(dir.file("g.bin")) + " " + quoted(dir.file("sym.txt")) +
            " --format snap --symmetrize");
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("(snap, 48 edges)"));
  EXPECT_EQ(cc_out(text, dir, "a.tsv"), cc_out(dir.file("g.bin"), dir, "b.tsv"));
}

TEST(CliUsability, ConvertRefusesWhatItCannotWrite) {
  TempDir dir;
  const std::string text = grid(dir);
  CommandResult gz = atoll("convert " + quoted(text) + " " + quoted(dir.file("g.el.gz")));
  EXPECT_EQ(gz.exit_code, 2) << describe(gz);
  EXPECT_THAT(gz.err, HasSubstr("writes no compressed files"));
  // Matrix Market numbers vertices from 1; the grid has vertex 0.
  CommandResult mtx = atoll("convert " + quoted(text) + " " + quoted(dir.file("g.mtx")));
  EXPECT_EQ(mtx.exit_code, 1) << describe(mtx);
  EXPECT_THAT(mtx.err, HasSubstr("numbers vertices from 1"));
  CommandResult missing = atoll("convert " + quoted(text) + " " + quoted(dir.file("no/g.bin")));
  EXPECT_EQ(missing.exit_code, 2) << describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("g.el.gz")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("g.mtx")));
}

TEST(CliUsability, AtomDirectoryOnOneRank) {
  TempDir dir;
  const std::string text = grid(dir);
  const std::string atoms = dir.file("g.atoms");
  CommandResult p = atoll("partition " + quoted(text) + " --atoms 3 --out " + quoted(atoms));
  ASSERT_EQ(p.exit_code, 0) << describe(p);
  // run, convert and partition read the directory whole on one rank.
  EXPECT_EQ(cc_out(atoms, dir, "atoms.tsv"), cc_out(text, dir, "text.tsv"));
  CommandResult c = atoll("convert " + quoted(atoms) + " " + quoted(dir.file("back.bin")));
  EXPECT_EQ(c.exit_code, 0) << describe(c);
  EXPECT_THAT(c.out, HasSubstr("24 edges"));
  CommandResult f = atoll("run cc " + quoted(atoms) + " --format snap");
  EXPECT_EQ(f.exit_code, 2) << describe(f);
  EXPECT_THAT(f.err, HasSubstr("is an atom directory"));
}

TEST(CliUsability, GenerateWritesWhatTheNameSays) {
  TempDir dir;
  CommandResult mtx = atoll("generate grid --rows 2 --cols 2 --out " + quoted(dir.file("g.mtx")));
  ASSERT_EQ(mtx.exit_code, 0) << describe(mtx);
  EXPECT_THAT(mtx.out, HasSubstr("vertex v written as v+1"));
  EXPECT_EQ(atl::test::read_file(dir.file("g.mtx")).substr(0, 14), "%%MatrixMarket");
  CommandResult info = atoll("info " + quoted(dir.file("g.mtx")));
  EXPECT_THAT(info.out, HasSubstr("(mtx,"));
  for (const char* name : {"g.el.zst", "g.el.gz"}) {
    CommandResult r = atoll("generate grid --rows 2 --cols 2 --out " + quoted(dir.file(name)));
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("writes no compressed files"));
    EXPECT_FALSE(std::filesystem::exists(dir.file(name)));
  }
}

// ---- item 7: version, help, listing ------------------------------------------------------------

TEST(CliUsability, Version) {
  CommandResult r = atoll("--version");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, testing::StartsWith("atoll 0."));
}

TEST(CliUsability, HelpCommand) {
  CommandResult top = atoll("help");
  EXPECT_EQ(top.exit_code, 0) << describe(top);
  EXPECT_THAT(top.out, HasSubstr("convert"));
  CommandResult app = atoll("help run pagerank");
  EXPECT_EQ(app.exit_code, 0) << describe(app);
  EXPECT_THAT(app.out, HasSubstr("Options of pagerank"));
  EXPECT_THAT(app.out, HasSubstr("--damping"));
  EXPECT_THAT(app.out, HasSubstr("Engines: chromatic, locking, pregel"));
  CommandResult bad = atoll("help run pagerang");
  EXPECT_EQ(bad.exit_code, 2) << describe(bad);
  EXPECT_THAT(bad.err, HasSubstr("did you mean 'pagerank'?"));
}

TEST(CliUsability, AppHelpShowsItsOwnOptions) {
  CommandResult r = atoll("run sssp --help");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("Options of sssp"));
  EXPECT_THAT(r.out, HasSubstr("--source"));
  EXPECT_THAT(r.out, Not(HasSubstr("--damping")));
}

TEST(CliUsability, RunListShowsAppsEnginesOptions) {
  CommandResult r = atoll("run --list");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("pagerank"));
  EXPECT_THAT(r.out, HasSubstr("engines: chromatic (default), locking, pregel"));
  EXPECT_THAT(r.out, HasSubstr("--damping FLOAT=0.85"));
  EXPECT_THAT(r.out, HasSubstr("--source UINT (required)"));
  EXPECT_THAT(r.out, HasSubstr("denoise"));
  CommandResult none = atoll("run");
  EXPECT_EQ(none.exit_code, 2) << describe(none);
  EXPECT_THAT(none.err, HasSubstr("'atoll run --list'"));
}

TEST(CliUsability, DidYouMean) {
  CommandResult r = atoll("run pagerank g.el --iteratons 3");
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("unknown option '--iteratons'; did you mean '--iterations'?"));
  CommandResult sub = atoll("partiton g.el");
  EXPECT_EQ(sub.exit_code, 2) << describe(sub);
  EXPECT_THAT(sub.err, HasSubstr("did you mean 'partition'?"));
}

// ---- item 8: the first hour ------------------------------------------------------------------

TEST(CliUsability, FailFastBeforeLoading) {
  TempDir dir;
  const std::string missing = dir.file("huge.el");  // never read: every check comes first
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"run sssp " + quoted(missing) + " --source -1",
       "--source: must be a non-negative integer, got -1"},
      {"run pagerank " + quoted(missing) + " --damping 1.5", "--damping must be in [0, 1]"},
      {"run pagerank " + quoted(missing) + " --out " + quoted(dir.file("no/pr.tsv")),
       "--out " + dir.file("no/pr.tsv") + ": directory " + dir.file("no") + " does not exist"},
      {"run pagerank " + quoted(missing) + " --metrics " + quoted(dir.path()),
       "--metrics " + dir.path() + ": is a directory"},
      {"run pagerank", "run pagerank needs a graph"},
      {"run pagerank a.el --graph b.el", "two graphs named"},
      {"run pagerank " + quoted(missing) + " --overlap sometimes",
       "unknown --overlap 'sometimes' (valid: auto, on, off)"},
      {"run pagerank " + quoted(missing) + " --engine pregel --overlap on",
       "--overlap is for the chromatic engine"},
  };
  for (const Case& c : cases) {
    CommandResult r = atoll(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << describe(r);
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args;
    EXPECT_THAT(r.err, Not(HasSubstr("cannot open"))) << c.args;
  }
}

TEST(CliUsability, GraphPositionalOrFlagEverywhere) {
  TempDir dir;
  const std::string g = grid(dir);
  for (const std::string& args :
       {"info --graph " + quoted(g), "info " + quoted(g), "run cc -q --graph " + quoted(g),
        "partition --graph " + quoted(g) + " --atoms 2 --out " + quoted(dir.file("a"))}) {
    CommandResult r = atoll(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << describe(r);
  }
}

TEST(CliUsability, PartitionRefusesToOverwriteWithoutForce) {
  TempDir dir;
  const std::string g = grid(dir);
  const std::string out = dir.file("g.atoms");
  ASSERT_EQ(atoll("partition " + quoted(g) + " --atoms 4 --out " + quoted(out)).exit_code, 0);
  CommandResult again = atoll("partition " + quoted(g) + " --atoms 2 --out " + quoted(out));
  EXPECT_EQ(again.exit_code, 2) << describe(again);
  EXPECT_THAT(again.err, HasSubstr("is an atom directory already (add --force"));
  EXPECT_TRUE(std::filesystem::exists(out + "/atoms.index"));
  CommandResult forced =
      atoll("partition " + quoted(g) + " --atoms 2 --out " + quoted(out) + " --force");
  EXPECT_EQ(forced.exit_code, 0) << describe(forced);
  EXPECT_THAT(forced.out, HasSubstr("into 2 atoms"));
  std::filesystem::create_directory(dir.file("other"));
  write_file(dir.file("other/notes.txt"), "keep");
  CommandResult other = atoll("partition " + quoted(g) + " --out " + quoted(dir.file("other")));
  EXPECT_EQ(other.exit_code, 2) << describe(other);
  EXPECT_THAT(other.err, HasSubstr("holds other files"));
}

TEST(CliUsability, CommaSeparatedEdgeList) {
  TempDir dir;
  write_file(dir.file("g.csv"), "1,2,0.5\n2,3,1.5\n1,3,4\n");
  CommandResult r = atoll("run sssp " + quoted(dir.file("g.csv")) + " --source 1 -q --out " +
                          quoted(dir.file("d.tsv")));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(atl::test::read_file(dir.file("d.tsv")), "1\t0\n2\t0.5\n3\t2\n");
}

TEST(CliUsability, OptionsThatDoNothingOnOneRankSaySo) {
  TempDir dir;
  const std::string g = grid(dir);
  CommandResult r = atoll("run cc " + quoted(g) + " --transport tcp --out-per-rank");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.err, HasSubstr("warning: --transport does nothing on one rank"));
  EXPECT_THAT(r.err, HasSubstr("warning: --out-per-rank does nothing on one rank"));
  CommandResult plain = atoll("run cc " + quoted(g));
  EXPECT_THAT(plain.err, Not(HasSubstr("does nothing")));
}

TEST(CliUsability, PageRankSaysWhenItDidNotConverge) {
  TempDir dir;
  const std::string g = grid(dir);
  CommandResult cut = atoll("run pagerank " + quoted(g) + " -q --iterations 3");
  EXPECT_EQ(cut.exit_code, 0) << describe(cut);
  EXPECT_THAT(cut.out, HasSubstr("pagerank: did not converge: stopped after 3 iterations"));
  CommandResult done = atoll("run pagerank " + quoted(g) + " -q --tol 1e-6");
  EXPECT_EQ(done.exit_code, 0) << describe(done);
  EXPECT_THAT(done.out, Not(HasSubstr("did not converge")));
}

TEST(CliUsability, LauncherReportsTheErrorThatStoppedARank) {
  TempDir dir;
  std::string text;
  for (int i = 1; i <= 200; ++i) text += std::to_string(i) + " " + std::to_string(i + 1) + "\n";
  write_file(dir.file("bad.el"), text + "5 x\n");  // in the second rank's half
  CommandResult r = atoll("run cc " + quoted(dir.file("bad.el")) + " --ranks 2 --transport tcp");
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  const std::string error = "bad.el:201: expected a destination vertex id";
  EXPECT_THAT(r.err, HasSubstr("atoll launch: rank 0 exited with code 1: error: "));
  EXPECT_THAT(r.err, HasSubstr("atoll launch: rank 1 exited with code 1: error: "));
  EXPECT_THAT(r.err, HasSubstr(error));
  EXPECT_THAT(r.err, Not(HasSubstr("stopping after an error"))) << describe(r);
  // Any program: the launcher names the rank and the error it printed last.
  write_file(dir.file("fail.sh"),
             "echo \"atoll: error: boom on rank $ATOLL_RANK\" >&2\n"
             "[ \"$ATOLL_RANK\" = 1 ] && exit 3\nexit 0\n");
  CommandResult s = atoll("launch -n 2 -- sh " + quoted(dir.file("fail.sh")));
  EXPECT_EQ(s.exit_code, 3) << describe(s);
  EXPECT_THAT(s.err, HasSubstr("atoll launch: rank 1 exited with code 3: error: boom on rank 1"));
}

TEST(CliUsability, BashCompletionFromTheDefinitions) {
  TempDir dir;
  CommandResult r = atoll("completion bash > " + quoted(dir.file("atoll.bash")));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto complete = [&](const std::string& words, int cword) {
    return run_command("bash -c 'source " + dir.file("atoll.bash") + "; COMP_WORDS=(" + words +
                       "); COMP_CWORD=" + std::to_string(cword) +
                       "; _atoll; echo \"${COMPREPLY[*]}\"'")
        .out;
  };
  EXPECT_EQ(complete("atoll run pag", 2), "pagerank\n");
  EXPECT_EQ(complete("atoll run pagerank g.el --damp", 4), "--damping\n");
  EXPECT_EQ(complete("atoll conv", 1), "convert\n");
  EXPECT_THAT(complete("atoll run sssp --", 3), HasSubstr("--source"));
  CommandResult zsh = atoll("completion zsh");
  EXPECT_EQ(zsh.exit_code, 2) << describe(zsh);
  EXPECT_THAT(zsh.err, HasSubstr("valid: bash"));
}

}  // namespace
