// End-to-end: the helper program runs as a child process, the tests signal it and read its
// stderr. Every wait polls for the output it expects, with generous deadlines.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "dump_parser.h"
#include "helper_process.h"

namespace stackhouse::stackdump::testing {
namespace {

constexpr std::string_view kDone = "USR2 stack trace done [";

std::string defaultLabel(const HelperProcess& helper) {
  return "stackdump-helper-" + std::to_string(helper.pid());
}

// Starts the helper and waits until its threads are parked.
void startAndWait(HelperProcess& helper) {
  ASSERT_TRUE(helper.started());
  ASSERT_TRUE(helper.waitForStdout("ready ", kPatience)) << helper.err();
}

// The function a frame line names: "  #3 parkInRead() at f.cc:9" gives "parkInRead()".
std::string_view functionOf(std::string_view frame) {
  const size_t space = frame.find(' ', 3);
  if (!frame.starts_with("  #") || space == std::string_view::npos) return {};
  frame.remove_prefix(space + 1);
  for (std::string_view separator : {" at ", " in "}) {
    const size_t end = frame.find(separator);
    if (end != std::string_view::npos) return frame.substr(0, end);
  }
  return frame;
}

// The first frame line of `thread` in exactly `function`, or "". (A substring match would
// also take "onUsr2(int) at /work/main/src/..." for "main".)
std::string frameWith(const ParsedThread& thread, std::string_view function) {
  for (const std::string& frame : thread.frames) {
    if (functionOf(frame) == function) return frame;
  }
  return "";
}

bool isHex(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool endsWithModuleOffset(std::string_view text) {  // "... in <module>+0x<hex>"
  const size_t in = text.rfind(" in ");
  const size_t plus = text.rfind("+0x");
  return in != std::string_view::npos && plus != std::string_view::npos && plus > in + 4 &&
         isHex(text.substr(plus + 3));
}

// "  #<n> " then "<function> at <file>:<line>", "<function> in <module>+0x<offset>" or
// "?? (0x<pc>)" optionally followed by " in <module>+0x<offset>"; then maybe " [inlined]".
bool hasFrameShape(std::string_view frame) {
  if (!frame.starts_with("  #")) return false;
  frame.remove_prefix(3);
  const size_t space = frame.find(' ');
  if (space == 0 || space == std::string_view::npos ||
      frame.substr(0, space).find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  frame.remove_prefix(space + 1);
  if (frame.ends_with(" [inlined]")) frame.remove_suffix(10);
  if (frame.starts_with("?? (0x")) {
    const size_t close = frame.find(')');
    if (close == std::string_view::npos || !isHex(frame.substr(6, close - 6))) return false;
    const std::string_view rest = frame.substr(close + 1);
    return rest.empty() || (rest.starts_with(" in ") && endsWithModuleOffset(rest));
  }
  const size_t at = frame.rfind(" at ");
  const size_t colon = frame.rfind(':');
  if (at != std::string_view::npos && colon != std::string_view::npos && colon > at + 4) {
    const std::string_view line = frame.substr(colon + 1);
    return !line.empty() && line.find_first_not_of("0123456789") == std::string_view::npos;
  }
  return endsWithModuleOffset(frame);
}

// The helper still works: its main thread answers, and the reader's read() was not broken.
void expectHealthy(HelperProcess& helper) {
  EXPECT_TRUE(helper.alive());
  const size_t pongs = countOf(helper.out(), "pong\n");
  helper.send("ping");
  EXPECT_TRUE(helper.waitUntil([&] { return countOf(helper.out(), "pong\n") > pongs; }, kPatience));
  const size_t reads = countOf(helper.out(), "reader got 1\n");
  helper.send("feed");
  EXPECT_TRUE(
      helper.waitUntil([&] { return countOf(helper.out(), "reader got 1\n") > reads; }, kPatience));
  EXPECT_EQ(helper.out().find("reader error"), std::string::npos) << helper.out();
  EXPECT_TRUE(helper.alive());
}

TEST(StackdumpProcess, Sigusr2DumpsEveryThreadInItsKnownFunction) {
  HelperProcess helper({"--stuck"});
  startAndWait(helper);
  ASSERT_EQ(kill(helper.pid(), SIGUSR2), 0);
  ASSERT_TRUE(helper.waitForStderr(kDone, kPatience)) << helper.err();

  const std::string& err = helper.err();
  const std::string banner = "USR2 signal received [" + defaultLabel(helper) +
                             "]; dumping thread stacks\nUSR2 triggered stack trace:\n\nThread \"";
  EXPECT_EQ(err.rfind(banner, 0), 0U) << err;
  const auto dumps = parseDumps(err);
  ASSERT_EQ(dumps.size(), 1U) << err;
  const ParsedDump& dump = dumps[0];
  EXPECT_TRUE(dump.wellFormed) << err;
  EXPECT_EQ(dump.reportedThreads, dump.blocks) << err;

  for (const char* name : {"helper-main", "sleeper", "spinner", "reader", "blocker", "allocator-0",
                           "stuck", "stackdump"}) {
    ASSERT_EQ(dump.threads.count(name), 1U) << name << "\n" << err;
  }
  EXPECT_EQ(dump.blocks, 8) << err;

  // Each parked thread shows the function it is parked in, with its source line.
  const auto expectParkedIn = [&](const char* thread, const char* function) {
    const std::string frame = frameWith(dump.threads.at(thread), function);
    EXPECT_NE(frame, "") << thread << " has no frame in " << function << "\n" << err;
    EXPECT_NE(frame.find("stackdump_helper.cc:"), std::string::npos) << frame;
    EXPECT_TRUE(dump.threads.at(thread).header.ends_with("(most recent call first):"))
        << dump.threads.at(thread).header;
  };
  expectParkedIn("sleeper", "parkSleeping()");
  expectParkedIn("spinner", "parkSpinning()");
  expectParkedIn("reader", "parkInRead()");
  expectParkedIn("allocator-0", "parkAllocating(unsigned int)");
  expectParkedIn("helper-main", "main");

  // Frame #0 is the interrupted function itself, not the capture's signal handler.
  const ParsedThread& spinner = dump.threads.at("spinner");
  ASSERT_FALSE(spinner.frames.empty());
  EXPECT_TRUE(spinner.frames[0].starts_with("  #0 parkSpinning() at ")) << spinner.frames[0];
  for (const auto& [name, thread] : dump.threads) {
    for (const std::string& frame : thread.frames) {
      EXPECT_EQ(frame.find("onCaptureSignal"), std::string::npos) << name << ": " << frame;
    }
  }
  // Every frame line has one of the documented shapes. (Which frames lack symbols or lines
  // depends on the debug packages installed, so only the shapes are checked.)
  for (const auto& [name, thread] : dump.threads) {
    for (const std::string& frame : thread.frames) {
      EXPECT_TRUE(hasFrameShape(frame)) << name << ": " << frame;
    }
  }

  const std::string& blocker = dump.threads.at("blocker").header;
  EXPECT_NE(blocker.find("): did not answer: it blocks the dump signal"), std::string::npos)
      << blocker;
  EXPECT_TRUE(dump.threads.at("blocker").frames.empty());
  const std::string& stuck = dump.threads.at("stuck").header;
  EXPECT_TRUE(
      stuck.ends_with("): did not answer within 200 ms (signal blocked or stuck in the kernel)"))
      << stuck;

  expectHealthy(helper);
}

TEST(StackdumpProcess, DumpNowReturnsOnceTheDumpIsWritten) {
  HelperProcess helper({});
  startAndWait(helper);
  helper.send("dump");
  ASSERT_TRUE(helper.waitForStdout("dumped\n", kPatience)) << helper.out();
  // The dump reached the pipe before dumpNow() returned and the helper answered.
  helper.drain();
  const auto dumps = parseDumps(helper.err());
  ASSERT_EQ(dumps.size(), 1U) << helper.err();
  EXPECT_EQ(dumps[0].reportedThreads, dumps[0].blocks);
  EXPECT_EQ(dumps[0].threads.count("helper-main"), 1U);
  expectHealthy(helper);
}

TEST(StackdumpProcess, StormOfSignalsWhileThreadsAllocate) {
  HelperProcess helper({"--allocators", "3"});
  startAndWait(helper);
  // A first dump reads the symbol tables; later ones are quick, so the storm below overlaps
  // many dumps instead of queueing behind one slow one.
  helper.send("dump");
  ASSERT_TRUE(helper.waitForStdout("dumped\n", kPatience)) << helper.out();
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(kill(helper.pid(), SIGUSR2), 0) << i;
    // Bursts with short pauses between, so signals land before, during and after dumps.
    if (i % 4 == 3) std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  // A dump that starts after every signal was sent; once it is written the others are done.
  helper.send("dump");
  ASSERT_TRUE(helper.waitUntil([&] { return countOf(helper.out(), "dumped\n") == 2; }, kPatience))
      << helper.out();
  helper.drain();
  const auto elapsed = std::chrono::steady_clock::now() - started;

  const auto dumps = parseDumps(helper.err());
  ASSERT_GE(dumps.size(), 3U);
  // Coalesced: at most one dump per signal, plus the two requested ones.
  EXPECT_LE(dumps.size(), 202U);
  EXPECT_EQ(countOf(helper.err(), kDone), dumps.size());
  for (const ParsedDump& dump : dumps) {
    EXPECT_TRUE(dump.wellFormed);
    EXPECT_EQ(dump.reportedThreads, dump.blocks);
    for (const char* name : {"helper-main", "sleeper", "spinner", "reader", "blocker",
                             "allocator-0", "allocator-1", "allocator-2", "stackdump"}) {
      EXPECT_EQ(dump.threads.count(name), 1U) << name;
    }
  }
  EXPECT_EQ(helper.err().find("not asked"), std::string::npos);
  EXPECT_EQ(helper.err().find("could not be signalled"), std::string::npos);
  std::printf("%zu dumps for 200 signals in %lld ms\n", dumps.size(),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
  expectHealthy(helper);
}

TEST(StackdumpProcess, ForkedChildDumpsOnlyItselfUnderItsOwnLabel) {
  // No allocating threads: GCC 12's AddressSanitizer does not hold its allocator's locks
  // across fork, so a child forked while another thread is inside malloc can deadlock in its
  // first malloc (seen in this test, in readThreadStatus). glibc's malloc has no such problem.
  HelperProcess helper({"--allocators", "0"});
  startAndWait(helper);
  helper.send("fork");
  ASSERT_TRUE(helper.waitForStdout("child ", kPatience)) << helper.out();
  ASSERT_TRUE(helper.waitForStdout("\n", kPatience));
  const size_t at = helper.out().find("child ") + 6;
  const pid_t child = std::stoi(helper.out().substr(at));
  ASSERT_GT(child, 0);
  ASSERT_NE(child, helper.pid());

  ASSERT_EQ(kill(child, SIGUSR2), 0);
  ASSERT_TRUE(helper.waitForStderr(kDone, kPatience)) << helper.err();
  auto dumps = parseDumps(helper.err());
  ASSERT_EQ(dumps.size(), 1U) << helper.err();
  EXPECT_EQ(dumps[0].label, "stackdump-helper-" + std::to_string(child));
  // Only the forking thread and the child's own dump thread exist in the child.
  EXPECT_EQ(dumps[0].reportedThreads, 2) << helper.err();
  EXPECT_EQ(dumps[0].threads.count("helper-main"), 1U);
  EXPECT_EQ(dumps[0].threads.count("stackdump"), 1U);
  EXPECT_EQ(dumps[0].threads.count("sleeper"), 0U);

  // The child's SIGUSR2 must not have woken the parent. (A negative check needs a pause;
  // the parent would start within milliseconds.)
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  helper.drain();
  EXPECT_EQ(parseDumps(helper.err()).size(), 1U) << helper.err();

  ASSERT_EQ(kill(helper.pid(), SIGUSR2), 0);
  ASSERT_TRUE(helper.waitForStderrCount(kDone, 2, kPatience)) << helper.err();
  dumps = parseDumps(helper.err());
  ASSERT_EQ(dumps.size(), 2U) << helper.err();
  EXPECT_EQ(dumps[1].label, defaultLabel(helper));
  EXPECT_EQ(dumps[1].threads.count("sleeper"), 1U);
  // The child is still fine after its dump: it dumps again.
  ASSERT_EQ(kill(child, SIGUSR2), 0);
  ASSERT_TRUE(helper.waitForStderrCount(kDone, 3, kPatience)) << helper.err();
  EXPECT_EQ(parseDumps(helper.err())[2].label, "stackdump-helper-" + std::to_string(child));
  expectHealthy(helper);
}

std::string labelWith(const std::vector<std::string>& environment) {
  HelperProcess helper({}, environment);
  startAndWait(helper);
  if (::testing::Test::HasFatalFailure()) return "";
  kill(helper.pid(), SIGUSR2);
  if (!helper.waitForStderr(kDone, kPatience)) return "no dump: " + helper.err();
  const auto dumps = parseDumps(helper.err());
  return dumps.empty() ? "" : dumps[0].label;
}

TEST(StackdumpProcess, LabelFromStackdumpLabel) {
  EXPECT_EQ(labelWith({"STACKDUMP_LABEL=ingest-7"}), "ingest-7");
}

TEST(StackdumpProcess, LabelFromOtelServiceName) {
  EXPECT_EQ(labelWith({"OTEL_SERVICE_NAME=collector-eu"}), "collector-eu");
}

TEST(StackdumpProcess, StackdumpLabelWinsOverOtelServiceName) {
  EXPECT_EQ(labelWith({"OTEL_SERVICE_NAME=collector-eu", "STACKDUMP_LABEL=ingest-7"}), "ingest-7");
}

TEST(StackdumpProcess, EmptyLabelVariablesFallBackToRoleAndPid) {
  HelperProcess helper({"--role", "stackhouse-run"}, {"STACKDUMP_LABEL=", "OTEL_SERVICE_NAME="});
  startAndWait(helper);
  kill(helper.pid(), SIGUSR2);
  ASSERT_TRUE(helper.waitForStderr(kDone, kPatience)) << helper.err();
  EXPECT_EQ(parseDumps(helper.err())[0].label, "stackhouse-run-" + std::to_string(helper.pid()));
}

TEST(StackdumpProcess, ReinstallTakesBackReplacedHandlers) {
  HelperProcess helper({});
  startAndWait(helper);
  helper.send("clobber");
  ASSERT_TRUE(helper.waitForStdout("clobbered ", kPatience));
  ASSERT_TRUE(helper.waitUntil(
      [&] { return helper.out().find('\n', helper.out().find("clobbered ")) != std::string::npos; },
      kPatience));
  int oursBefore = -1, oursClobbered = -1, reinstalled = -1, oursAfter = -1, oldSignal = -1,
      newSignal = -1;
  ASSERT_EQ(std::sscanf(helper.out().c_str() + helper.out().find("clobbered "),
                        "clobbered %d %d %d %d %d %d", &oursBefore, &oursClobbered, &reinstalled,
                        &oursAfter, &oldSignal, &newSignal),
            6)
      << helper.out();
  EXPECT_EQ(oursBefore, 1);
  EXPECT_EQ(oursClobbered, 0);
  EXPECT_EQ(reinstalled, 1);
  EXPECT_EQ(oursAfter, 1);
  // The capture signal's new owner keeps it; stackdump moved to another free one.
  EXPECT_GT(oldSignal, SIGRTMIN);
  EXPECT_GT(newSignal, SIGRTMIN);
  EXPECT_NE(newSignal, oldSignal);

  ASSERT_EQ(kill(helper.pid(), SIGUSR2), 0);
  ASSERT_TRUE(helper.waitForStderr(kDone, kPatience)) << helper.err();
  const auto dumps = parseDumps(helper.err());
  ASSERT_EQ(dumps.size(), 1U);
  EXPECT_NE(frameWith(dumps[0].threads.at("spinner"), "parkSpinning()"), "") << helper.err();
  expectHealthy(helper);
}

}  // namespace
}  // namespace stackhouse::stackdump::testing
