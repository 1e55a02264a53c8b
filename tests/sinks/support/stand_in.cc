#include "sinks/support/stand_in.h"

#include <stdexcept>

#include "sinks/http/compression.h"

namespace stackhouse::sinks::testing {

std::string_view headerOf(const Received& r, std::string_view lowerName) {
  for (const auto& [name, value] : r.headers) {
    if (name == lowerName) return value;
  }
  return {};
}

std::string expectHeader(const Received& r, std::string_view lowerName, std::string_view value) {
  size_t count = 0;
  for (const auto& [name, v] : r.headers) count += name == lowerName ? 1 : 0;
  if (count != 1) {
    return std::string(lowerName) + " appears " + std::to_string(count) + " times";
  }
  if (headerOf(r, lowerName) != value) {
    return std::string(lowerName) + " is \"" + std::string(headerOf(r, lowerName)) +
           "\", expected \"" + std::string(value) + "\"";
  }
  return "";
}

StandIn::StandIn(Check check, Answer success) : check_(std::move(check)), success_(success) {
  ::stackhouse::http::ServerOptions options;
  options.name = "stand-in";
  options.threads = 2;
  options.maxBodyBytes = 256 << 20;
  auto server = ::stackhouse::http::Server::start(
      options, [this](::stackhouse::http::Request&& r, ::stackhouse::http::Respond respond) {
        handle(std::move(r), respond);
      });
  if (!server.isOk()) throw std::runtime_error(server.status().toString());
  server_ = std::move(server.value());
  port_ = server_->port();
}

StandIn::~StandIn() { stop(); }

void StandIn::stop() {
  if (server_) server_->stop(std::chrono::milliseconds(100));
  std::vector<std::thread> delayed;
  {
    std::lock_guard lock(mutex_);
    delayed.swap(delayed_);
  }
  for (std::thread& t : delayed) t.join();
  server_.reset();
}

void StandIn::script(std::vector<Answer> answers) {
  std::lock_guard lock(mutex_);
  script_ = std::move(answers);
}

std::vector<Received> StandIn::received() const {
  std::lock_guard lock(mutex_);
  std::vector<Received> out;
  for (const auto& [r, status] : received_) out.push_back(r);
  return out;
}

std::vector<Received> StandIn::accepted() const {
  std::lock_guard lock(mutex_);
  std::vector<Received> out;
  for (const auto& [r, status] : received_) {
    if (status >= 200 && status < 300) out.push_back(r);
  }
  return out;
}

std::vector<std::string> StandIn::violations() const {
  std::lock_guard lock(mutex_);
  return violations_;
}

void StandIn::handle(::stackhouse::http::Request&& request, ::stackhouse::http::Respond respond) {
  Received r;
  r.method = request.method;
  r.target = request.target;
  r.headers = request.headers;
  r.rawBody = std::move(request.body);
  std::string problem;
  const std::string_view encoding = request.header("content-encoding");
  if (encoding.empty()) {
    r.body = r.rawBody;
  } else if (auto c = sinks::http::parseCompression(encoding);
             c && *c != sinks::http::Compression::kNone) {
    if (Status st = sinks::http::decompress(*c, r.rawBody, 512 << 20, r.body); !st.isOk()) {
      problem = "the body is not valid " + std::string(encoding) + ": " + st.message();
    }
  } else {
    problem = "unknown content-encoding " + std::string(encoding);
  }
  if (problem.empty()) problem = check_(r);
  if (!problem.empty()) {
    {
      std::lock_guard lock(mutex_);
      violations_.push_back(problem);
    }
    respond(::stackhouse::http::jsonResponse(400, "{\"errors\":[\"stand-in: " + problem + "\"]}"));
    return;
  }
  Answer answer;
  {
    std::lock_guard lock(mutex_);
    if (!script_.empty()) {
      answer = script_.front();
      script_.erase(script_.begin());
    } else {
      answer = success_;
    }
    received_.emplace_back(std::move(r), answer.status);
  }
  ::stackhouse::http::Response response;
  response.status = answer.status;
  response.contentType = answer.contentType;
  response.body = answer.body;
  response.headers = answer.headers;
  if (answer.delay.count() == 0) {
    respond(std::move(response));
    return;
  }
  std::lock_guard lock(mutex_);
  delayed_.emplace_back([respond, response = std::move(response), delay = answer.delay]() mutable {
    std::this_thread::sleep_for(delay);
    respond(std::move(response));
  });
}

}  // namespace stackhouse::sinks::testing
