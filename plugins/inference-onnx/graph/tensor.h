// Tensor: a shape and a buffer of float32 or int64 values, row-major.
//
// Several tensors may share one buffer: shape operators (Reshape, Squeeze,
// Unsqueeze, Flatten) make a new tensor over the same buffer, which is why
// the buffer is shared. Buffers come from a BufferPool and return to it when
// the last tensor over them dies, so the executor reuses its intermediate
// storage between nodes and between runs instead of allocating.
#ifndef NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_TENSOR_H_
#define NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_TENSOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nomtag::onnx {

using Shape = std::vector<int64_t>;

enum class DType { kFloat, kInt64 };

int64_t ElementCount(const Shape& shape);
std::string ShapeText(const Shape& shape);  // "[1,187,96]"

// Storage for one tensor's values; only the vector of its dtype is used.
struct Buffer {
  std::vector<float> f;
  std::vector<int64_t> i;
};

// Hands out buffers of at least the asked size, reusing returned ones
// (the smallest that fits). A buffer goes back to the pool when its last
// tensor dies; one that outlives the pool is simply freed. One thread at a
// time.
class BufferPool {
 public:
  BufferPool();
  std::shared_ptr<Buffer> Get(DType dtype, int64_t count);
  size_t free_buffers() const { return state_->free.size(); }

 private:
  struct State {
    std::vector<std::unique_ptr<Buffer>> free;
  };
  std::shared_ptr<State> state_;
};

struct Tensor {
  DType dtype = DType::kFloat;
  Shape shape;
  std::shared_ptr<Buffer> buffer;

  int64_t size() const { return ElementCount(shape); }
  float* f() { return buffer->f.data(); }
  const float* f() const { return buffer->f.data(); }
  int64_t* i() { return buffer->i.data(); }
  const int64_t* i() const { return buffer->i.data(); }

  // A new tensor with its own buffer (not from a pool).
  static Tensor Floats(Shape shape, std::vector<float> values = {});
  static Tensor Int64s(Shape shape, std::vector<int64_t> values = {});
  // The same values seen with another shape (same element count).
  Tensor Reshaped(Shape new_shape) const;
  // The values as int64 whatever the dtype (for shape-like inputs).
  std::vector<int64_t> AsInt64s() const;
};

}  // namespace nomtag::onnx

#endif  // NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_TENSOR_H_
