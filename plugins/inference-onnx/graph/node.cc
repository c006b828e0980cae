#include "node.h"

namespace nomtag::onnx {

int64_t Node::Int(const std::string& a, int64_t fallback) const {
  auto it = attributes.find(a);
  return it == attributes.end() ? fallback : it->second.i;
}

float Node::Float(const std::string& a, float fallback) const {
  auto it = attributes.find(a);
  return it == attributes.end() ? fallback : it->second.f;
}

std::string Node::String(const std::string& a,
                         const std::string& fallback) const {
  auto it = attributes.find(a);
  return it == attributes.end() ? fallback : it->second.s;
}

std::vector<int64_t> Node::Ints(const std::string& a) const {
  auto it = attributes.find(a);
  return it == attributes.end() ? std::vector<int64_t>{} : it->second.ints;
}

std::string Node::Describe() const {
  return "node '" + name + "' (" + op + ")";
}

}  // namespace nomtag::onnx
