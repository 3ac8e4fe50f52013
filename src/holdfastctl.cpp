// holdfastctl: publish, administer and follow channels from the command line, over FastCGI
// straight to holdfast's sockets (no web server needed) or over HTTP to the web server's mounts.
// The --help text below is the one source of the holdfastctl(1) man page (help2man renders it
// at package build time), so options, commands and exit codes are documented only here.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/tokens.h"
#include "ctl/client.h"
#include "ctl/format.h"
#include "util/json.h"

namespace {

using holdfast::ctl::Endpoint;
using holdfast::ctl::Reply;
using holdfast::ctl::Request;

// Exit statuses (also in kUsage).
constexpr int kOk = 0;
constexpr int kAnswerError = 1;
constexpr int kUsageOrConnection = 2;

const char* kUsage =
    "Usage: holdfastctl [OPTION]... COMMAND [ARGUMENT]...\n"
    "Publish to, administer and follow a holdfast Comet push server, over FastCGI straight to\n"
    "its sockets or over HTTP to the web server's mounts.\n"
    "\n"
    "Commands:\n"
    "  publish CHANNEL[,CHANNEL...] [DATA|-]\n"
    "                       publish DATA (or stdin when DATA is - or absent); the type is\n"
    "                       application/json when DATA is valid JSON, else text/plain\n"
    "  info CHANNEL         one channel's buffered messages, ids and subscribers (JSON)\n"
    "  list                 the first page of channels (JSON)\n"
    "  channels             every channel as a table\n"
    "  delete CHANNEL       drop a channel's history; its subscribers are told\n"
    "  close SESSION        end a session's held request\n"
    "  stats                counters (JSON)\n"
    "  metrics              counters in the Prometheus text format\n"
    "  health               200 while serving, 503 while shutting down\n"
    "  tail CHANNEL...      follow channels like tail -f: one line per message\n"
    "                       (CHANNEL ID EVENT DATA) until interrupted\n"
    "  token CHANNEL        print a subscribe token for a private channel\n"
    "\n"
    "Options:\n"
    "  --control ADDR       control socket: unix:PATH or tcp:HOST:PORT (FastCGI)\n"
    "                       [unix:/run/holdfast/control.sock]\n"
    "  --url URL            http://HOST[:PORT]/MOUNT of the control mount (HTTP instead of\n"
    "                       FastCGI)\n"
    "  --mount PATH         control mount sent in REQUEST_URI over FastCGI [/push/ctl]\n"
    "  --key KEY            publish key (Authorization: Bearer) [$HOLDFAST_PUBLISH_KEY]\n"
    "  --event NAME         publish: event name of the message\n"
    "  --type TYPE          publish: Content-Type of DATA\n"
    "  --data ADDR          tail: data socket (FastCGI) [unix:/run/holdfast/data.sock]\n"
    "  --data-url URL       tail: http://HOST[:PORT]/MOUNT of the data mount; with --url and\n"
    "                       no --data-url, the --url host with --data-mount\n"
    "  --data-mount PATH    tail: data mount [/push/sub]\n"
    "  -n, --lines N        tail: start with the last N buffered messages of each channel\n"
    "                       [0: new messages only]\n"
    "  --json               tail: print each message as its JSON object\n"
    "  --token TOKEN        tail: subscribe token for private channels\n"
    "  --token-key KEY      token: the server's token_key\n"
    "  --ttl SECONDS        token: lifetime [3600]\n"
    "  -h, --help           show this help\n"
    "  --version            show the version\n"
    "\n"
    "Tail:\n"
    "  tail long-polls the data mount (transport=longpoll), which works the same over\n"
    "  FastCGI and through every web server and proxy. Each answer carries the cursor to\n"
    "  ask with next, so nothing is lost or repeated across reconnects and server restarts;\n"
    "  when the server no longer has a missed message it says so and tail prints the gap on\n"
    "  stderr (\"gap in CHANNEL: asked for ID, continuing from ID (REASON)\"). Connection\n"
    "  failures after the first answer are retried every few seconds with the same cursor.\n"
    "\n"
    "Exit status:\n"
    "  0    the server answered 2xx (tail: never exits on its own except as below)\n"
    "  1    the server answered with another status: the body is printed on stdout and\n"
    "       \"holdfastctl: HTTP status N\" on stderr (tail: also when a channel is deleted)\n"
    "  2    usage error, or no answer (connection refused, timeout, bad reply): the reason\n"
    "       is printed on stderr as \"holdfastctl: ...\"\n"
    "\n"
    "Examples:\n"
    "  holdfastctl --key \"$KEY\" publish news '{\"title\":\"hello\"}'\n"
    "\n"
    "  holdfastctl --key \"$KEY\" channels\n"
    "\n"
    "  holdfastctl tail -n 10 news alerts\n"
    "\n"
    "  holdfastctl --url http://localhost/push/ctl --key \"$KEY\" tail news\n";

struct Options {
  std::string control = "unix:/run/holdfast/control.sock";
  std::string url;
  std::string mount = "/push/ctl";
  std::string data = "unix:/run/holdfast/data.sock";
  std::string data_url;
  std::string data_mount = "/push/sub";
  std::string key;
  std::string event;
  std::string type;
  std::string token;
  std::string token_key;
  long ttl = 3600;
  long lines = 0;
  bool json = false;
  bool help = false;
  bool version = false;
  std::vector<std::string> args;
};

int fail(const std::string& message, int status = kUsageOrConnection) {
  std::cerr << "holdfastctl: " << message << "\n";
  return status;
}

std::string urlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || strchr("-_.~", c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<Endpoint> controlEndpoint(const Options& o, std::string& error) {
  return o.url.empty() ? holdfast::ctl::fastcgiEndpoint(o.control, o.mount, error)
                       : holdfast::ctl::httpEndpoint(o.url, error);
}

std::optional<Endpoint> dataEndpoint(const Options& o, std::string& error) {
  if (!o.data_url.empty())
    return holdfast::ctl::httpEndpoint(o.data_url, error);
  if (o.url.empty())
    return holdfast::ctl::fastcgiEndpoint(o.data, o.data_mount, error);
  auto e = holdfast::ctl::httpEndpoint(o.url, error);
  if (e)
    e->prefix = o.data_mount;
  return e;
}

Request withKey(const Options& o, Request r) {
  if (!o.key.empty())
    r.headers.emplace_back("Authorization", "Bearer " + o.key);
  return r;
}

// One control request; prints the body; the status decides the exit code.
int run(const Options& o, const std::string& method, const std::string& route,
        const std::string& type = "", const std::string& body = "") {
  std::string error;
  auto endpoint = controlEndpoint(o, error);
  if (!endpoint)
    return fail(error);
  Request r{method, route, {}, body};
  if (!type.empty())
    r.headers.emplace_back("Content-Type", type);
  auto reply = holdfast::ctl::send(*endpoint, withKey(o, r), error);
  if (!reply)
    return fail(error);
  std::cout << reply->body;
  if (!reply->body.empty() && reply->body.back() != '\n')
    std::cout << "\n";
  if (reply->status < 200 || reply->status > 299)
    return fail("HTTP status " + std::to_string(reply->status), kAnswerError);
  return kOk;
}

int publish(const Options& o) {
  if (o.args.size() < 2 || o.args.size() > 3)
    return -1;
  std::string data;
  if (o.args.size() == 2 || o.args[2] == "-")
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  else
    data = o.args[2];
  std::string type = o.type;
  if (type.empty())
    type = holdfast::util::validateJson(data).ok ? "application/json" : "text/plain; charset=utf-8";
  std::string route = "/pub/" + o.args[1];
  if (!o.event.empty())
    route += "?event=" + urlEncode(o.event);
  return run(o, "POST", route, type, data);
}

// Every page of GET /channels, printed as one table.
int channels(const Options& o) {
  std::string error, after;
  auto endpoint = controlEndpoint(o, error);
  if (!endpoint)
    return fail(error);
  std::vector<holdfast::ctl::ChannelRow> rows;
  do {
    std::string route =
        "/channels?limit=1000" + (after.empty() ? "" : "&after=" + urlEncode(after));
    auto reply = holdfast::ctl::send(*endpoint, withKey(o, Request{"GET", route, {}, ""}), error);
    if (!reply)
      return fail(error);
    if (reply->status != 200) {
      std::cout << reply->body;
      return fail("HTTP status " + std::to_string(reply->status), kAnswerError);
    }
    if (!holdfast::ctl::parseChannelsPage(reply->body, rows, after, error))
      return fail(error);
  } while (!after.empty());
  std::cout << holdfast::ctl::formatChannelsTable(rows);
  return kOk;
}

// The next long-poll route for `tail`: from the cursor, or the first one (with -n).
std::string tailRoute(const Options& o, const std::string& channels, const std::string& cursor) {
  std::string route = "/" + channels + "?transport=longpoll&timeout=25";
  if (!cursor.empty())
    route += "&cursor=" + urlEncode(cursor);
  else if (o.lines > 0)
    route += "&last=" + std::to_string(o.lines);
  if (!o.token.empty())
    route += "&token=" + urlEncode(o.token);
  return route;
}

int tail(const Options& o) {
  if (o.args.size() < 2)
    return -1;
  std::string channels = o.args[1];
  for (size_t i = 2; i < o.args.size(); ++i)
    channels += "," + o.args[i];
  std::string error, cursor;
  auto endpoint = dataEndpoint(o, error);
  if (!endpoint)
    return fail(error);
  bool answered = false;
  while (true) {
    Request r{"GET", tailRoute(o, channels, cursor), {}, ""};
    r.timeout_seconds = 60; // above the server's long-poll hold
    auto reply = holdfast::ctl::send(*endpoint, r, error);
    if (!reply || reply->status == 502 || reply->status == 503 || reply->status == 504) {
      if (!answered)
        return reply ? fail("HTTP status " + std::to_string(reply->status), kAnswerError)
                     : fail(error);
      std::cerr << "holdfastctl: "
                << (reply ? "HTTP status " + std::to_string(reply->status) : error)
                << "; retrying in 2 s\n";
      std::this_thread::sleep_for(std::chrono::seconds(2));
      continue;
    }
    if (reply->status != 200) {
      std::cout << reply->body;
      std::cout.flush();
      return fail("HTTP status " + std::to_string(reply->status), kAnswerError);
    }
    holdfast::ctl::PollAnswer answer;
    if (!holdfast::ctl::parsePollAnswer(reply->body, o.json, answer, error))
      return fail(error);
    answered = true;
    for (const auto& g : answer.gaps)
      std::cerr << "holdfastctl: " << g << "\n";
    for (const auto& line : answer.lines)
      std::cout << line << "\n";
    std::cout.flush();
    if (!answer.cursor.empty())
      cursor = answer.cursor;
    if (!answer.closed.empty())
      return fail("subscription ended: " + answer.closed, kAnswerError);
    if (answer.reconnect)
      std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// The string option `flag` names, or nullptr.
std::string* stringOption(Options& o, const std::string& flag) {
  static const std::pair<const char*, std::string Options::*> kStrings[] = {
      {"--control", &Options::control},
      {"--url", &Options::url},
      {"--mount", &Options::mount},
      {"--data", &Options::data},
      {"--data-url", &Options::data_url},
      {"--data-mount", &Options::data_mount},
      {"--key", &Options::key},
      {"--event", &Options::event},
      {"--type", &Options::type},
      {"--token", &Options::token},
      {"--token-key", &Options::token_key}};
  for (const auto& [name, member] : kStrings) {
    if (flag == name)
      return &(o.*member);
  }
  return nullptr;
}

// Takes the value of the option at argv[i] (advancing i). False when it is missing or bad.
bool takeValue(int argc, char** argv, int& i, Options& o, const std::string& a) {
  if (i + 1 >= argc)
    return false;
  std::string text = argv[++i];
  if (std::string* out = stringOption(o, a)) {
    *out = text;
    return true;
  }
  long& out = a == "--ttl" ? o.ttl : o.lines;
  char* end = nullptr;
  out = strtol(text.c_str(), &end, 10);
  return !text.empty() && *end == '\0' && out >= (a == "--ttl" ? 1 : 0);
}

bool takesValue(Options& o, const std::string& a) {
  return stringOption(o, a) || a == "--ttl" || a == "-n" || a == "--lines";
}

bool parseOptions(int argc, char** argv, Options& o) {
  if (const char* k = getenv("HOLDFAST_PUBLISH_KEY"))
    o.key = k;
  for (int i = 1; i < argc; ++i) {
    const std::string given = argv[i];
    const std::string a = given == "-n" ? "--lines" : given;
    if (takesValue(o, a)) {
      if (!takeValue(argc, argv, i, o, a)) {
        fail(given + " needs a valid value");
        return false;
      }
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "-h" || a == "--help") {
      o.help = true;
    } else if (a == "--version") {
      o.version = true;
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      fail("unknown option " + a);
      return false;
    } else {
      o.args.push_back(a);
    }
  }
  return o.help || o.version || !o.args.empty();
}

int dispatch(const Options& o) {
  const std::string& cmd = o.args[0];
  size_t n = o.args.size();
  if (cmd == "publish")
    return publish(o);
  if (cmd == "tail")
    return tail(o);
  if (cmd == "channels" && n == 1)
    return channels(o);
  if (cmd == "info" && n == 2)
    return run(o, "GET", "/channels/" + o.args[1]);
  if (cmd == "list" && n == 1)
    return run(o, "GET", "/channels");
  if (cmd == "delete" && n == 2)
    return run(o, "DELETE", "/channels/" + o.args[1]);
  if (cmd == "close" && n == 2)
    return run(o, "POST", "/session/" + o.args[1] + "/close");
  if (cmd == "stats" && n == 1)
    return run(o, "GET", "/stats");
  if (cmd == "metrics" && n == 1)
    return run(o, "GET", "/metrics");
  if (cmd == "health" && n == 1)
    return run(o, "GET", "/health");
  if (cmd == "token" && n == 2 && !o.token_key.empty()) {
    std::cout << holdfast::auth::makeSubscribeToken(o.token_key, o.args[1], time(nullptr) + o.ttl)
              << "\n";
    return kOk;
  }
  return -1;
}

} // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parseOptions(argc, argv, o)) {
    fputs(kUsage, stderr);
    return kUsageOrConnection;
  }
  if (o.help) {
    fputs(kUsage, stdout);
    return kOk;
  }
  if (o.version) {
    printf("holdfastctl %s\n", HOLDFAST_VERSION);
    return kOk;
  }
  int rc = dispatch(o);
  if (rc < 0) {
    fputs(kUsage, stderr);
    return kUsageOrConnection;
  }
  return rc;
}
