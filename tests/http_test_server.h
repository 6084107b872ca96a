// A tiny HTTP/1.1 server on 127.0.0.1 for tests: started by the test, one thread, one request per
// connection. Routes:
//   /hello            200 "hello from the test server" with header X-Test: yes
//   /status/N         status N, body "status N"
//   /big/N            200 with N bytes of 'x', sent in 64 KiB chunks
//   /echo             200, the request's method, a newline, and its body
//   /redirect?to=URL  302 to URL
//   /slow             waits 5 s before answering (or until the server stops)
//   any path given to serve(path, body): 200 with that body
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

namespace warden::testing {

class HttpTestServer {
 public:
  HttpTestServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~HttpTestServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  void serve(const std::string& path, std::string body) {
    std::lock_guard lock(mutex_);
    files_[path] = std::move(body);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  void serve() {
    while (!stopping_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      handle(c);
      ::close(c);
    }
  }
  static void send_all(int c, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  void handle(int c) {
    std::string req;
    char buf[4096];
    size_t header_end;
    while ((header_end = req.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    size_t content_length = 0;
    if (auto p = req.find("Content-Length: "); p != std::string::npos && p < header_end)
      content_length = std::stoul(req.substr(p + 16));
    while (req.size() < header_end + 4 + content_length) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    const std::string method = req.substr(0, req.find(' '));
    const size_t path_start = req.find(' ') + 1;
    const std::string path = req.substr(path_start, req.find(' ', path_start) - path_start);
    auto reply = [&](int status, const std::string& body, const std::string& extra = "") {
      send_all(c, "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n" + extra + "\r\n" + body);
    };
    std::optional<std::string> file;
    {
      std::lock_guard lock(mutex_);
      if (auto it = files_.find(path); it != files_.end()) file = it->second;
    }
    if (file) {
      reply(200, *file);
    } else if (path == "/hello") {
      reply(200, "hello from the test server", "X-Test: yes\r\n");
    } else if (path.starts_with("/status/")) {
      reply(std::stoi(path.substr(8)), "status " + path.substr(8));
    } else if (path.starts_with("/big/")) {
      const size_t n = std::stoul(path.substr(5));
      send_all(c, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n) + "\r\nConnection: close\r\n\r\n");
      const std::string chunk(65536, 'x');
      for (size_t sent = 0; sent < n && !stopping_; sent += chunk.size())
        send_all(c, chunk.substr(0, std::min(chunk.size(), n - sent)));
    } else if (path == "/echo") {
      reply(200, method + "\n" + req.substr(header_end + 4));
    } else if (path.starts_with("/redirect?to=")) {
      reply(302, "", "Location: " + path.substr(13) + "\r\n");
    } else if (path == "/slow") {
      for (int i = 0; i < 500 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      reply(200, "slow");
    } else {
      reply(404, "not found");
    }
  }

  std::mutex mutex_;
  std::map<std::string, std::string> files_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace warden::testing
