#include "tensor_proto.h"

#include <onnx/onnx_pb.h>

#include <cstring>

namespace nomtag::onnx {

bool TensorFromProto(const ::onnx::TensorProto& proto, Tensor* out,
                     std::string* error) {
  Shape shape(proto.dims().begin(), proto.dims().end());
  const int64_t n = ElementCount(shape);
  const std::string& raw = proto.raw_data();
  auto wrong_size = [&](size_t have) {
    *error = "tensor '" + proto.name() + "' has " + std::to_string(have) +
             " values for shape " + ShapeText(shape);
    return false;
  };
  if (proto.has_data_location() &&
      proto.data_location() == ::onnx::TensorProto::EXTERNAL) {
    *error = "tensor '" + proto.name() + "' keeps its data in another file";
    return false;
  }
  switch (proto.data_type()) {
    case ::onnx::TensorProto::FLOAT: {
      std::vector<float> v(n);
      if (!raw.empty()) {
        if (raw.size() != n * sizeof(float)) return wrong_size(raw.size() / 4);
        std::memcpy(v.data(), raw.data(), raw.size());  // little-endian
      } else {
        if (proto.float_data_size() != n)
          return wrong_size(proto.float_data_size());
        std::copy(proto.float_data().begin(), proto.float_data().end(),
                  v.begin());
      }
      *out = Tensor::Floats(shape, std::move(v));
      return true;
    }
    case ::onnx::TensorProto::INT64: {
      std::vector<int64_t> v(n);
      if (!raw.empty()) {
        if (raw.size() != n * sizeof(int64_t))
          return wrong_size(raw.size() / 8);
        std::memcpy(v.data(), raw.data(), raw.size());
      } else {
        if (proto.int64_data_size() != n)
          return wrong_size(proto.int64_data_size());
        std::copy(proto.int64_data().begin(), proto.int64_data().end(),
                  v.begin());
      }
      *out = Tensor::Int64s(shape, std::move(v));
      return true;
    }
    case ::onnx::TensorProto::INT32: {
      std::vector<int64_t> v(n);
      if (!raw.empty()) {
        if (raw.size() != n * sizeof(int32_t))
          return wrong_size(raw.size() / 4);
        for (int64_t k = 0; k < n; ++k) {
          int32_t x;
          std::memcpy(&x, raw.data() + k * 4, 4);
          v[k] = x;
        }
      } else {
        if (proto.int32_data_size() != n)
          return wrong_size(proto.int32_data_size());
        std::copy(proto.int32_data().begin(), proto.int32_data().end(),
                  v.begin());
      }
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
