// Builds hiredis redisReply trees by hand, as the parser receives them from the network.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <hiredis/hiredis.h>

namespace holdfast::redis::test {

// Owns a reply tree; element pointers stay valid as long as the Node lives.
class Node {
public:
  static Node str(std::string s) {
    Node n(REDIS_REPLY_STRING);
    n.text_ = std::move(s);
    return n;
  }
  static Node error(std::string s) {
    Node n = str(std::move(s));
    n.type_ = REDIS_REPLY_ERROR;
    return n;
  }
  static Node integer(long long v) {
    Node n(REDIS_REPLY_INTEGER);
    n.integer_ = v;
    return n;
  }
  static Node nil() { return Node(REDIS_REPLY_NIL); }
  static Node array(std::vector<Node> items) {
    Node n(REDIS_REPLY_ARRAY);
    n.children_ = std::move(items);
    return n;
  }
  // Builds the hiredis structs (call once the tree is complete).
  const redisReply* get() {
    build();
    return &reply_;
  }

private:
  explicit Node(int type) : type_(type) {}
  void build() {
    pointers_.clear();
    for (Node& c : children_) {
      c.build();
      pointers_.push_back(&c.reply_);
    }
    reply_ = redisReply{};
    reply_.type = type_;
    reply_.integer = integer_;
    reply_.str = text_.data();
    reply_.len = text_.size();
    reply_.elements = children_.size();
    reply_.element = pointers_.empty() ? nullptr : pointers_.data();
  }
  int type_;
  long long integer_ = 0;
  std::string text_;
  std::vector<Node> children_;
  std::vector<redisReply*> pointers_;
  redisReply reply_{};
};

// A stream entry as XRANGE returns it: ["SEQ-0", [e, EVENT, t, TIME, j, J, d, DATA, c, COST]].
inline Node entry(uint64_t seq, std::string data, std::string event = "message",
                  long long time = 1000, bool json = true) {
  return Node::array(
      {Node::str(std::to_string(seq) + "-0"),
       Node::array({Node::str("e"), Node::str(event), Node::str("t"),
                    Node::str(std::to_string(time)), Node::str("j"), Node::str(json ? "1" : "0"),
                    Node::str("d"), Node::str(data), Node::str("c"), Node::str("100")})});
}

} // namespace holdfast::redis::test
