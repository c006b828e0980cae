#include "tensor.h"

#include <stdexcept>

namespace nomtag::onnx {

int64_t ElementCount(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeText(const Shape& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) {
    if (k) s += ",";
    s += std::to_string(shape[k]);
  }
  return s + "]";
}

BufferPool::BufferPool() : state_(std::make_shared<State>()) {}

std::shared_ptr<Buffer> BufferPool::Get(DType dtype, int64_t count) {
  auto& free = state_->free;
  auto capacity = [dtype](const Buffer& b) {
    return dtype == DType::kFloat ? b.f.capacity() : b.i.capacity();
  };
  size_t best = free.size();
  for (size_t k = 0; k < free.size(); ++k) {
    size_t c = capacity(*free[k]);
    if (c >= static_cast<size_t>(count) &&
        (best == free.size() || c < capacity(*free[best])))
      best = k;
  }
  std::unique_ptr<Buffer> buffer;
  if (best < free.size()) {
    buffer = std::move(free[best]);
    free.erase(free.begin() + best);
  } else {
    buffer = std::make_unique<Buffer>();
  }
  // resize within capacity does not allocate; values are overwritten by
  // the kernel that fills the buffer.
  if (dtype == DType::kFloat)
    buffer->f.resize(count);
  else
    buffer->i.resize(count);
  std::weak_ptr<State> pool = state_;
  return std::shared_ptr<Buffer>(buffer.release(), [pool](Buffer* b) {
    if (auto state = pool.lock())
      state->free.emplace_back(b);
    else
      delete b;
  });
}

namespace {

template <typename T>
Tensor Own(DType dtype, Shape shape, std::vector<T> values,
           std::vector<T> Buffer::*field) {
  if (values.empty()) values.resize(ElementCount(shape));
  if (static_cast<int64_t>(values.size()) != ElementCount(shape))
    throw std::invalid_argument("values do not fill shape " + ShapeText(shape));
  Tensor t;
  t.dtype = dtype;
  t.buffer = std::make_shared<Buffer>();
  (*t.buffer).*field = std::move(values);
  t.shape = std::move(shape);
  return t;
}

}  // namespace

Tensor Tensor::Floats(Shape shape, std::vector<float> values) {
  return Own(DType::kFloat, std::move(shape), std::move(values), &Buffer::f);
}

Tensor Tensor::Int64s(Shape shape, std::vector<int64_t> values) {
  return Own(DType::kInt64, std::move(shape), std::move(values), &Buffer::i);
}

Tensor Tensor::Reshaped(Shape new_shape) const {
  if (ElementCount(new_shape) != size())
    throw std::invalid_argument("cannot view " + ShapeText(shape) + " as " +
                                ShapeText(new_shape));
  Tensor t = *this;
  t.shape = std::move(new_shape);
  return t;
}

std::vector<int64_t> Tensor::AsInt64s() const {
  if (dtype == DType::kInt64) return {i(), i() + size()};
  std::vector<int64_t> out(size());
  for (int64_t k = 0; k < size(); ++k) out[k] = static_cast<int64_t>(f()[k]);
  return out;
}

}  // namespace nomtag::onnx
