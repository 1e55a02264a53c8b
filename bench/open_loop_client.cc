#include "open_loop_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <queue>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace stackhouse::bench {
namespace {

using Clock = std::chrono::steady_clock;

enum class State { kIdle, kConnecting, kSendingHead, kAwaitingContinue, kSendingBody, kReading };

struct Connection {
  int fd = -1;
  State state = State::kIdle;
  std::string out;  // the request: its head, then its body
  size_t headBytes = 0;
  size_t sent = 0;
  std::string in;     // what has been read of the answer
  uint64_t next = 0;  // the index of its next request
  bool bodySent = false;
};

// The parts of an answer's head the generator needs.
struct Head {
  size_t bytes = 0;  // through the blank line
  int status = 0;
  uint64_t contentLength = 0;
  bool close = false;
  bool retryAfter = false;
};

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char a = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (a != prefix[i]) return false;
  }
  return true;
}

// The head at the start of `in`, once all of it has arrived.
bool parseHead(std::string_view in, Head& head) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  head = Head{};
  head.bytes = end + 4;
  const std::string_view text = in.substr(0, end);
  if (text.size() < 12 || !text.starts_with("HTTP/1.")) return false;
  head.status = std::atoi(std::string(text.substr(9, 3)).c_str());
  size_t line = text.find("\r\n");
  while (line != std::string_view::npos) {
    const size_t start = line + 2;
    line = text.find("\r\n", start);
    std::string_view field =
        text.substr(start, line == std::string_view::npos ? text.npos : line - start);
    if (startsWithNoCase(field, "content-length:")) {
      head.contentLength = std::stoull(std::string(field.substr(15)));
    } else if (startsWithNoCase(field, "connection:")) {
      head.close = field.find("close") != std::string_view::npos;
    } else if (startsWithNoCase(field, "retry-after:")) {
      head.retryAfter = true;
    }
  }
  return true;
}

class Generator {
 public:
  explicit Generator(const OpenLoopOptions& o)
      : o_(o), connections_(static_cast<size_t>(o.connections)) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) throw std::runtime_error("epoll_create1 failed");
    interval_ = o_.connections / o_.requestsPerSecond;
  }
  ~Generator() {
    for (Connection& c : connections_) closeConnection(c);
    close(epoll_);
  }

  OpenLoopResult run() {
    start_ = Clock::now();
    for (size_t c = 0; c < connections_.size(); ++c) schedule(c);
    std::vector<epoll_event> events(256);
    const auto deadline = o_.seconds + 60;
    while ((!due_.empty() || busy_ > 0) && now() < deadline) {
      int timeoutMs = 10;
      if (!due_.empty()) {
        const double wait = due_.top().first - now();
        timeoutMs = wait <= 0 ? 0 : std::min(10, static_cast<int>(wait * 1000) + 1);
      }
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeoutMs);
      for (int i = 0; i < n; ++i) progress(events[static_cast<size_t>(i)].data.u64);
      while (!due_.empty() && due_.top().first <= now()) {
        const size_t c = due_.top().second;
        due_.pop();
        if (!stopped(now())) send(c);
      }
    }
    return result_;
  }

 private:
  double now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  bool stopped(double t) const {
    return t >= o_.seconds || (o_.stop != nullptr && o_.stop->load());
  }

  // Queues connection c's next request at its slot (or at once, when the slot has passed).
  void schedule(size_t c) {
    const double due = interval_ * static_cast<double>(connections_[c].next) +
                       interval_ * static_cast<double>(c) / o_.connections;
    if (due < o_.seconds && !stopped(now())) due_.emplace(due, c);
  }

  void send(size_t index) {
    Connection& c = connections_[index];
    const uint64_t n = c.next++;
    const std::string body = o_.body(static_cast<int>(index), n);
    c.out = "POST " + o_.target +
            " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + o_.contentType +
            "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
            (o_.expectContinue ? "Expect: 100-continue\r\n" : "") + "\r\n";
    c.headBytes = c.out.size();
    c.out += body;
    c.sent = 0;
    c.in.clear();
    c.bodySent = false;
    ++busy_;
    if (c.fd < 0) {
      c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c.fd < 0) return finish(index, 0, true);
      const int one = 1;
      setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(o_.port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
      ev.data.u64 = index;
      epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
      if (connect(c.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
          errno != EINPROGRESS) {
        return finish(index, 0, true);
      }
      c.state = State::kConnecting;
      return;  // EPOLLOUT says when it is connected
    }
    c.state = State::kSendingHead;
    write(index);
  }

  void progress(uint64_t index) {
    Connection& c = connections_[index];
    if (c.fd < 0) return;
    if (c.state == State::kConnecting) {
      int error = 0;
      socklen_t len = sizeof error;
      if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error == EINPROGRESS) return;
      if (error != 0) return finish(index, 0, true);
      c.state = State::kSendingHead;
    }
    if (c.state == State::kSendingHead || c.state == State::kSendingBody) write(index);
    if (c.fd >= 0 && (c.state == State::kAwaitingContinue || c.state == State::kReading ||
                      c.state == State::kSendingBody)) {
      read(index);
    }
  }

  void write(size_t index) {
    Connection& c = connections_[index];
    const size_t limit =
        c.state == State::kSendingHead && o_.expectContinue ? c.headBytes : c.out.size();
    while (c.sent < limit) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.sent, limit - c.sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // EPOLLOUT resumes it
        return finish(index, 0, true);
      }
      c.sent += static_cast<size_t>(n);
    }
    if (c.sent == c.out.size()) c.bodySent = true;
    c.state = c.bodySent ? State::kReading : State::kAwaitingContinue;
    read(index);  // an answer may already be there
  }

  void read(size_t index) {
    Connection& c = connections_[index];
    char buffer[16384];
    bool eof = false;
    while (true) {
      const ssize_t n = recv(c.fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        c.in.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == 0)
        eof = true;
      else if (errno != EAGAIN && errno != EWOULDBLOCK)
        eof = true;
      break;
    }
    Head head;
    while (parseHead(c.in, head)) {
      if (head.status == 100) {
        c.in.erase(0, head.bytes);
        if (c.state == State::kAwaitingContinue) {
          c.state = State::kSendingBody;
          return write(index);
        }
        continue;
      }
      if (c.in.size() < head.bytes + head.contentLength) break;
      const bool ok = head.status == 200;
      const bool refused = (head.status == 503 || head.status == 429) && head.retryAfter;
      // Answered before its body was sent: the connection cannot carry another request.
      const bool keep = !head.close && c.bodySent && !eof;
      if (!keep) closeConnection(c);
      return finish(index, ok ? 1 : refused ? 2 : 0, false);
    }
    if (eof) finish(index, 0, true);
  }

  // outcome: 1 acknowledged, 2 refused, 0 failed.
  void finish(size_t index, int outcome, bool lost) {
    Connection& c = connections_[index];
    if (lost) closeConnection(c);
    c.state = State::kIdle;
    c.out.clear();
    --busy_;
    const double t = now();
    auto count = [outcome](OpenLoopCounts& counts) {
      (outcome == 1 ? counts.ok : outcome == 2 ? counts.refused : counts.failed)++;
    };
    count(result_.all);
    if ((o_.counting == nullptr || o_.counting->load()) && !stopped(t)) count(result_.counted);
    schedule(index);
  }

  void closeConnection(Connection& c) {
    if (c.fd < 0) return;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
  }

  const OpenLoopOptions& o_;
  std::vector<Connection> connections_;
  int epoll_ = -1;
  double interval_ = 0;
  Clock::time_point start_;
  size_t busy_ = 0;  // connections with a request under way
  using Slot = std::pair<double, size_t>;
  std::priority_queue<Slot, std::vector<Slot>, std::greater<>> due_;
  OpenLoopResult result_;
};

}  // namespace

OpenLoopResult runOpenLoop(const OpenLoopOptions& options) { return Generator(options).run(); }

}  // namespace stackhouse::bench
