#include "tensor_proto.h"

#include <onnx/onnx_pb.h>

#include <cstring>

namespace nomtag::onnx {
namespace {

// n values of type Stored, from raw_data (little-endian, as ONNX writes it
// and as every target we build reads it) or the typed repeated field,
// widened to Out.
template <typename Stored, typename Repeated, typename Out>
bool Values(const std::string& raw, const Repeated& typed, int64_t n,
            std::vector<Out>* out) {
  out->resize(n);
  if (!raw.empty()) {
    if (raw.size() != n * sizeof(Stored)) return false;
    for (int64_t k = 0; k < n; ++k) {
      Stored x;
      std::memcpy(&x, raw.data() + k * sizeof(Stored), sizeof(Stored));
      (*out)[k] = x;
    }
    return true;
  }
  if (typed.size() != n) return false;
  std::copy(typed.begin(), typed.end(), out->begin());
  return true;
}

}  // namespace

bool TensorFromProto(const ::onnx::TensorProto& proto, Tensor* out,
                     std::string* error) {
  Shape shape(proto.dims().begin(), proto.dims().end());
  const int64_t n = ElementCount(shape);
  const std::string& raw = proto.raw_data();
  auto wrong_size = [&] {
    *error = "tensor '" + proto.name() + "' does not hold the " +
             std::to_string(n) + " values of shape " + ShapeText(shape);
    return false;
  };
  if (proto.has_data_location() &&
      proto.data_location() == ::onnx::TensorProto::EXTERNAL) {
    *error = "tensor '" + proto.name() + "' keeps its data in another file";
    return false;
  }
  switch (proto.data_type()) {
    case ::onnx::TensorProto::FLOAT: {
      std::vector<float> v;
      if (!Values<float>(raw, proto.float_data(), n, &v)) return wrong_size();
      *out = Tensor::Floats(shape, std::move(v));
      return true;
    }
    case ::onnx::TensorProto::INT64: {
      std::vector<int64_t> v;
      if (!Values<int64_t>(raw, proto.int64_data(), n, &v)) return wrong_size();
      *out = Tensor::Int64s(shape, std::move(v));
      return true;
    }
    case ::onnx::TensorProto::INT32: {
      std::vector<int64_t> v;
      if (!Values<int32_t>(raw, proto.int32_data(), n, &v)) return wrong_size();
      *out = Tensor::Int64s(shape, std::move(v));
      return true;
    }
    default:
      *error =
          "tensor '" + proto.name() + "' has element type " +
          ::onnx::TensorProto::DataType_Name(
              static_cast<::onnx::TensorProto::DataType>(proto.data_type())) +
          " (only FLOAT, INT64 and INT32 are implemented)";
      return false;
  }
}

bool ParseTensor(const std::string& bytes, Tensor* out, std::string* name,
                 std::string* error) {
  ::onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) {
    *error = "not a TensorProto";
    return false;
  }
  if (name) *name = proto.name();
  return TensorFromProto(proto, out, error);
}

}  // namespace nomtag::onnx
