// WorkerProcess with real processes (/bin/sh): how an ended worker is
// described, that a hung one and what it started are killed, that nothing
// is left unreaped, and that an endless line is cut at the limit.
#include "worker_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <thread>

namespace nomtag::external {
namespace {

using namespace std::chrono_literals;

WorkerProcess Shell(const std::string& script, size_t max_line = 4096) {
  return WorkerProcess({"/bin/sh", "-c", script}, max_line, 256);
}

// No child of this process is left, zombie or alive.
bool NoChildren() {
  return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

// The process is gone (or a zombie of someone else's, about to be reaped).
bool Gone(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string all;
    if (!std::getline(stat, all)) return true;
    if (all.substr(all.rfind(')') + 2, 1) == "Z") return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(WorkerProcess, LinesThenTheEndAndHowItEnded) {
  WorkerProcess w = Shell("echo one; echo two >&2; echo three; exit 3");
  ASSERT_EQ(w.Start(), "");
  std::string line;
  auto deadline = WorkerProcess::Clock::now() + 5s;
  ASSERT_EQ(w.ReadLine(&line, deadline), WorkerProcess::Read::kLine);
  EXPECT_EQ(line, "one");
  ASSERT_EQ(w.ReadLine(&line, deadline), WorkerProcess::Read::kLine);
  EXPECT_EQ(line, "three");
  EXPECT_EQ(w.ReadLine(&line, deadline), WorkerProcess::Read::kEnd);
  EXPECT_EQ(w.Stop(1000ms), "exited with status 3");
  EXPECT_EQ(w.last_stderr_line(), "two");
  EXPECT_FALSE(w.running());
  EXPECT_TRUE(NoChildren());
}

TEST(WorkerProcess, EchoesWhatItIsSent) {
  WorkerProcess w = Shell("read x; echo \"got $x\"");
  ASSERT_EQ(w.Start(), "");
  auto deadline = WorkerProcess::Clock::now() + 5s;
  ASSERT_EQ(w.Send("hello\n", deadline), "");
  std::string line;
  ASSERT_EQ(w.ReadLine(&line, deadline), WorkerProcess::Read::kLine);
  EXPECT_EQ(line, "got hello");
  w.Stop(1000ms);
  EXPECT_TRUE(NoChildren());
}

TEST(WorkerProcess, AHungWorkerAndItsChildrenAreKilled) {
  WorkerProcess w = Shell("sleep 30 & echo $!; sleep 30");
  ASSERT_EQ(w.Start(), "");
  std::string line;
  ASSERT_EQ(w.ReadLine(&line, WorkerProcess::Clock::now() + 5s),
            WorkerProcess::Read::kLine);
  pid_t child = std::stoi(line);
  auto started = WorkerProcess::Clock::now();
  EXPECT_EQ(w.ReadLine(&line, started + 200ms), WorkerProcess::Read::kTimeout);
  EXPECT_GE(WorkerProcess::Clock::now() - started, 200ms);
  EXPECT_EQ(w.Stop(0ms), "was killed by signal 9 (Killed)");
  EXPECT_TRUE(NoChildren());
  EXPECT_TRUE(Gone(child));  // the worker's own child, killed with its group
}

TEST(WorkerProcess, ADeadWorkerDoesNotRaiseSigpipe) {
  WorkerProcess w = Shell("exec 0<&-; exit 0");
  ASSERT_EQ(w.Start(), "");
  std::string line;
  EXPECT_EQ(w.ReadLine(&line, WorkerProcess::Clock::now() + 5s),
            WorkerProcess::Read::kEnd);
  std::string big(1 << 20, 'x');  // more than the socket holds
  EXPECT_NE(w.Send(big, WorkerProcess::Clock::now() + 2s), "");
  w.Stop(0ms);  // still here: no SIGPIPE killed the test
  EXPECT_TRUE(NoChildren());
}

TEST(WorkerProcess, AnEndlessLineIsCutAtTheLimit) {
  WorkerProcess w = Shell("while :; do printf xxxxxxxxxxxxxxxx; done", 1024);
  ASSERT_EQ(w.Start(), "");
  std::string line;
  EXPECT_EQ(w.ReadLine(&line, WorkerProcess::Clock::now() + 5s),
            WorkerProcess::Read::kTooLong);
  EXPECT_TRUE(line.empty());
  w.Stop(0ms);
  EXPECT_TRUE(NoChildren());
}

TEST(WorkerProcess, ACommandThatIsNotThere) {
  WorkerProcess w({"/nonexistent/worker"}, 1024, 256);
  EXPECT_EQ(w.Start(),
            "cannot run /nonexistent/worker: No such file or "
            "directory");
  EXPECT_FALSE(w.running());
  EXPECT_TRUE(NoChildren());
}

}  // namespace
}  // namespace nomtag::external
