// Log line format and the two Progress display modes (terminal redraw, plain log lines).
#include <algorithm>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "core/progress.h"
#include "tests/test_util_core.h"

namespace {

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

const std::regex kPrefix(R"(^\[semsec \d\d:\d\d:\d\d\] )");

}  // namespace

TEST(Log, LineFormat) {
  std::ostringstream os;
  semsec::log::line(os, fmt::format("epoch {} done", 3));
  EXPECT_TRUE(std::regex_match(os.str(), std::regex(R"(\[semsec \d\d:\d\d:\d\d\] epoch 3 done\n)"))) << os.str();
}

TEST(Progress, PlainOutputOneLinePerTenth) {
  for (int64_t total : {100, 25, 7, 1000}) {
    std::ostringstream os;
    semsec::log::Progress p("train", total, /*tty=*/false, os);
    for (int64_t i = 1; i <= total; ++i) p.update(i, fmt::format("loss={:.3f}", 1.0 / static_cast<double>(i)));
    p.finish();
    const auto lines = split_lines(os.str());
    EXPECT_EQ(lines.size(), static_cast<size_t>(std::min<int64_t>(total, 10))) << "total " << total << "\n" << os.str();
    EXPECT_EQ(os.str().find('\r'), std::string::npos);
    for (const auto& l : lines) EXPECT_TRUE(std::regex_search(l, kPrefix)) << l;
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines.back().find(fmt::format("train {}/{} (100%)", total, total)), std::string::npos) << lines.back();
    EXPECT_NE(lines.back().find(fmt::format("loss={:.3f}", 1.0 / static_cast<double>(total))), std::string::npos);
    EXPECT_NE(lines.back().find("took"), std::string::npos) << lines.back();
  }
}

TEST(Progress, PlainOutputSparseUpdatesAndEarlyStop) {
  std::ostringstream os;
  {
    semsec::log::Progress p("eval", 1000, false, os);
    // Updates every 150 items cross a tenth each time, never two lines for one update.
    for (int64_t i = 150; i <= 600; i += 150) p.update(i, "");
  }  // destructor finishes: the last state (600) was already printed, so no extra line
  auto lines = split_lines(os.str());
  ASSERT_EQ(lines.size(), 4u) << os.str();
  EXPECT_NE(lines[0].find("eval 150/1000 (15%)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[3].find("600/1000"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find("ETA"), std::string::npos) << lines[3];

  // An interrupted run reports where it stopped.
  std::ostringstream os2;
  {
    semsec::log::Progress p("eval", 1000, false, os2);
    p.update(5, "");
  }
  lines = split_lines(os2.str());
  ASSERT_EQ(lines.size(), 1u) << os2.str();
  EXPECT_NE(lines[0].find("eval 5/1000"), std::string::npos);
}

TEST(Progress, RateAndEta) {
  std::ostringstream os;
  semsec::log::Progress p("steps", 5, false, os);
  for (int64_t i = 1; i <= 4; ++i) {
    p.update(i, "");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto lines = split_lines(os.str());
  ASSERT_EQ(lines.size(), 4u) << os.str();
  // The first update is the rate baseline; later ones know a rate, hence an ETA.
  EXPECT_NE(lines[0].find("- it/s ETA ?"), std::string::npos) << lines[0];
  std::smatch m;
  ASSERT_TRUE(std::regex_search(lines[3], m, std::regex(R"(([0-9.]+) it/s ETA (\d+):(\d\d))"))) << lines[3];
  const double rate = std::stod(m[1]);
  EXPECT_GT(rate, 0.5);  // 3 items in >= 60 ms: at most 50 it/s, and not absurdly slow
  EXPECT_LE(rate, 50.5);
}

TEST(Progress, TtyRedrawsOneThrottledLine) {
  std::ostringstream os;
  semsec::log::Progress p("train", 200, /*tty=*/true, os);
  for (int64_t i = 1; i <= 200; ++i) p.update(i, "loss=0.5");
  p.finish();
  const std::string out = os.str();
  EXPECT_NE(out.find('\r'), std::string::npos);
  EXPECT_NE(out.find("200/200"), std::string::npos) << out;
  EXPECT_NE(out.find("1/200"), std::string::npos) << out;  // first update always drawn
  EXPECT_NE(out.find("[##############################]"), std::string::npos) << out;
  EXPECT_NE(out.find("loss=0.5"), std::string::npos);
  // 200 updates in a tight loop take far less than 100 ms: only a handful of redraws.
  const auto redraws = std::count(out.begin(), out.end(), '\r');
  EXPECT_GE(redraws, 2);
  EXPECT_LE(redraws, 10) << out;
  // One line in all: only finish() ends it.
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  EXPECT_EQ(out.back(), '\n');
}

TEST(Progress, TtyRedrawsAfterInterval) {
  std::ostringstream os;
  semsec::log::Progress p("train", 10, true, os);
  const auto t0 = std::chrono::steady_clock::now();
  p.update(1, "");
  p.update(2, "");  // within 100 ms of the first: skipped
  const bool back_to_back = std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(90);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  p.update(3, "");
  const std::string out = os.str();
  if (back_to_back) {  // unless the machine stalled between the two calls
    EXPECT_EQ(out.find("2/10"), std::string::npos) << out;
  }
  EXPECT_NE(out.find("3/10"), std::string::npos) << out;
  EXPECT_NE(out.find("[###..."), std::string::npos) << out;  // 30% of a 30-wide bar
}

TEST(Progress, LogLineClearsActiveBar) {
  std::ostringstream os;
  semsec::log::Progress p("train", 10, true, os);
  p.update(4, "");
  semsec::log::line(os, "checkpoint saved");
  p.update(5, "");  // within 100 ms, but the bar was erased so it is redrawn
  p.finish();
  const std::string out = os.str();
  const auto msg = out.find("\r\033[K[semsec ");
  ASSERT_NE(msg, std::string::npos) << out;
  EXPECT_NE(out.find("5/10", msg), std::string::npos) << out;

  // A log line on another stream leaves the bar alone.
  std::ostringstream bar_os, other_os;
  semsec::log::Progress q("x", 10, true, bar_os);
  q.update(1, "");
  semsec::log::line(other_os, "elsewhere");
  EXPECT_EQ(other_os.str().find('\r'), std::string::npos);
}

TEST(Progress, ZeroTotalAndInvalidTotal) {
  std::ostringstream os;
  { semsec::log::Progress p("nothing", 0, false, os); }
  const auto lines = split_lines(os.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("nothing 0/0 (100%)"), std::string::npos) << lines[0];
  semsec::testing::expect_error([&] { semsec::log::Progress("bad", -1, false, os); },
                                {"progress 'bad'", "total must be >= 0, got -1"});
}

TEST(Progress, ForStderrIsMovable) {
  // for_stderr writes to std::cerr: capture it (restored even if something throws).
  std::ostringstream captured;
  struct Restore {
    std::streambuf* saved;
    ~Restore() { std::cerr.rdbuf(saved); }
  } restore{std::cerr.rdbuf(captured.rdbuf())};
  std::string after_finish;
  {
    auto p = semsec::log::Progress::for_stderr("stderr", 3);
    semsec::log::Progress q(std::move(p));
    q.update(3, "");
    q.finish();
    after_finish = captured.str();
  }
  std::cerr.rdbuf(restore.saved);
  // The moved-to object reports the final state; destroying it and the moved-from one prints nothing more.
  EXPECT_NE(after_finish.find("stderr"), std::string::npos) << after_finish;
  EXPECT_NE(after_finish.find("3/3"), std::string::npos) << after_finish;
  EXPECT_EQ(after_finish.find("0/3"), std::string::npos) << after_finish;
  EXPECT_EQ(captured.str(), after_finish);
}
