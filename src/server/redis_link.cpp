// The hiredis/libevent glue of the Redis engine.
#include "server/redis_link.h"

#include <hiredis/adapters/libevent.h>

#include "util/log.h"

namespace holdfast::server {
namespace {

using util::logField;

constexpr int kSetupTimeoutMs = 3000; // connect + AUTH + SELECT + PING

RedisLink* self(const redisAsyncContext* ctx) {
  return static_cast<RedisLink*>(ctx->data);
}

std::string_view text(const redisReply* r) {
  return std::string_view(r->str, r->len);
}

bool isString(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

} // namespace

RedisLink::RedisLink(event_base* base, redis::Address address, std::string password,
                     std::string name, const util::Clock& clock)
    : base_(base), address_(std::move(address)), password_(std::move(password)),
      name_(std::move(name)), state_(clock), retry_ev_(evtimer_new(base, &onRetry, this)) {}

RedisLink::~RedisLink() {
  closing_ = true;
  if (ctx_)
    redisAsyncFree(ctx_);
}

// Runs from start() and the retry timer (which is the schedule: libevent's timer may fire a
// millisecond before our clock says the delay is over, so `due` is not asked).
void RedisLink::attempt() {
  if (state_.state() != redis::Reconnect::State::kDisconnected || closing_)
    return;
  state_.attempting();
  bool unix_socket = address_.kind == redis::Address::Kind::kUnix;
  redisAsyncContext* ctx = unix_socket ? redisAsyncConnectUnix(address_.path.c_str())
                                       : redisAsyncConnect(address_.host.c_str(), address_.port);
  if (!ctx || ctx->err) {
    std::string why = ctx ? ctx->errstr : "out of memory";
    if (ctx)
      redisAsyncFree(ctx);
    return failed(why);
  }
  ctx->data = this;
  ctx_ = ctx;
  redisLibeventAttach(ctx_, base_);
  redisAsyncSetConnectCallback(ctx_, &onConnect);
  redisAsyncSetDisconnectCallback(ctx_, &onDisconnect);
  handshake();
  // The same timer bounds the attempt: a connection not ready by then is dropped.
  timeval tv{kSetupTimeoutMs / 1000, 0};
  event_add(retry_ev_.get(), &tv);
}

// Queued at once (hiredis sends them when the connection is up): AUTH, SELECT, then a PING
// whose answer makes the link ready. An AUTH or SELECT error makes the PING fail too.
void RedisLink::handshake() {
  if (!password_.empty())
    send({"AUTH", password_}, &onHandshake, this);
  if (address_.db != 0)
    send({"SELECT", std::to_string(address_.db)}, &onHandshake, this);
  send({"PING"}, &onHandshake, this);
}

void RedisLink::onHandshake(redisAsyncContext* ctx, void* reply, void* privdata) {
  auto* link = static_cast<RedisLink*>(privdata);
  auto* r = static_cast<redisReply*>(reply);
  if (link->closing_ || !r)
    return;
  if (r->type == REDIS_REPLY_ERROR) {
    HF_ERROR("redis refused the connection setup",
             logField("link", link->name_) + logField("error", text(r)));
    redisAsyncDisconnect(ctx);
    return;
  }
  if (r->type == REDIS_REPLY_STATUS && text(r) == "PONG") {
    link->state_.connected();
    event_del(link->retry_ev_.get());
    HF_INFO("redis connected",
            logField("link", link->name_) + logField("redis", redis::describe(link->address_)));
    if (link->hooks_.ready)
      link->hooks_.ready();
  }
}

// Connect failures only (hiredis frees the context right after this callback).
void RedisLink::onConnect(const redisAsyncContext* ctx, int status) {
  RedisLink* link = self(ctx);
  if (status == REDIS_OK || link->closing_)
    return;
  link->ctx_ = nullptr;
  link->failed(ctx->errstr);
}

void RedisLink::onDisconnect(const redisAsyncContext* ctx, int status) {
  RedisLink* link = self(ctx);
  link->ctx_ = nullptr;
  if (link->closing_)
    return;
  link->failed(status == REDIS_OK ? "closed" : ctx->errstr);
}

// Schedules the next attempt; tells the owner when a ready link was lost.
void RedisLink::failed(const std::string& why) {
  bool was_ready = state_.lost();
  int64_t delay = state_.waitMs();
  HF_WARN(was_ready ? "redis connection lost" : "redis connection failed",
          logField("link", name_) + logField("error", why) +
              logField("retry_ms", static_cast<long long>(delay)));
  timeval tv{static_cast<time_t>(delay / 1000), static_cast<suseconds_t>((delay % 1000) * 1000)};
  event_add(retry_ev_.get(), &tv);
  if (was_ready && hooks_.lost)
    hooks_.lost();
}

// Retry delay over, or the setup deadline of an attempt still connecting.
void RedisLink::onRetry(evutil_socket_t, short, void* arg) {
  auto* link = static_cast<RedisLink*>(arg);
  if (link->state_.state() == redis::Reconnect::State::kConnecting)
    link->drop();
  else
    link->attempt();
}

bool RedisLink::send(const std::vector<std::string>& args, redisCallbackFn* fn, void* privdata) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return ctx_ && redisAsyncCommandArgv(ctx_, fn, privdata, static_cast<int>(argv.size()),
                                       argv.data(), lens.data()) == REDIS_OK;
}

void RedisLink::command(const std::vector<std::string>& args, Reply done) {
  if (!ready())
    return done(nullptr);
  auto* fn = new Reply(std::move(done));
  if (send(args, &onReply, fn))
    return;
  Reply failed_call = std::move(*fn);
  delete fn;
  failed_call(nullptr);
}

void RedisLink::onReply(redisAsyncContext* ctx, void* reply, void* privdata) {
  auto* fn = static_cast<Reply*>(privdata);
  Reply done = std::move(*fn);
  delete fn;
  if (!self(ctx)->closing_)
    done(static_cast<redisReply*>(reply));
}

void RedisLink::subscribe(const std::string& channel) {
  if (ready())
    send({"SUBSCRIBE", channel}, &onPubsub, this);
}

// hiredis refuses an UNSUBSCRIBE when nothing is subscribed: then it is confirmed at once.
void RedisLink::unsubscribe(const std::string& channel) {
  if (ready() && send({"UNSUBSCRIBE", channel}, &onPubsub, this))
    return;
  if (hooks_.unsubscribed)
    hooks_.unsubscribed(channel);
}

void RedisLink::onPubsub(redisAsyncContext*, void* reply, void* privdata) {
  auto* link = static_cast<RedisLink*>(privdata);
  if (!link->closing_)
    link->pubsubReply(static_cast<redisReply*>(reply));
}

// ["subscribe", ch, n], ["unsubscribe", ch, n] or ["message", ch, payload].
void RedisLink::pubsubReply(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 || !isString(r->element[0]) ||
      !isString(r->element[1]))
    return;
  std::string_view kind = text(r->element[0]);
  std::string_view channel = text(r->element[1]);
  if (kind == "message" && isString(r->element[2]) && hooks_.message)
    hooks_.message(channel, text(r->element[2]));
  else if (kind == "subscribe" && hooks_.subscribed)
    hooks_.subscribed(channel);
  else if (kind == "unsubscribe" && hooks_.unsubscribed)
    hooks_.unsubscribed(channel);
}

// A forced close (redisAsyncDisconnect would wait for the overdue replies): pending callbacks
// get null replies and onDisconnect schedules the reconnect. Never called from a hiredis
// callback (the engine's sweep timer calls it).
void RedisLink::drop() {
  redisAsyncContext* ctx = ctx_;
  if (!ctx)
    return;
  redisAsyncFree(ctx); // runs onDisconnect when the connection was up
  ctx_ = nullptr;
  if (state_.state() != redis::Reconnect::State::kDisconnected)
    failed("no answer");
}

} // namespace holdfast::server
